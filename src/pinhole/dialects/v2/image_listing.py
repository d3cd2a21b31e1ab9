"""The query of an image listing (filters and paging), shared by `GET /v2/images` and `GET /v2/albums/{id}/images`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from pinhole.dialects.v2.schemas import Pagination
from pinhole.errors import InvalidInput
from pinhole.services import listing
from pinhole.services.tags import normalize_tags


@dataclass(frozen=True)
class ListQuery:
    flt: listing.ImageFilter
    limit: int
    page: int | None
    cursor: str | None


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def image_list_query(
    page: Annotated[int | None, Query(ge=1, le=listing.MAX_PAGE, description="Page number (page mode).")] = None,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page (cursor mode).")] = None,
    tag: Annotated[str | None, Query(description="Only images with this tag.")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Text in the description or file name.")] = None,
    owner: Annotated[str | None, Query(description="Only images of this external user id.")] = None,
    created_from: Annotated[
        datetime | None, Query(alias="from", description="Uploaded at or after (ISO 8601).")
    ] = None,
    created_to: Annotated[datetime | None, Query(alias="to", description="Uploaded before (ISO 8601).")] = None,
) -> ListQuery:
    if page is not None and cursor is not None:
        raise InvalidInput("Use either page or cursor, not both.", field="cursor")
    flt = listing.ImageFilter(
        tag=normalize_tags([tag])[0] if tag and tag.strip() else None,
        search=search.strip() if search else None,
        owner_id=owner,
        created_from=_as_utc(created_from),
        created_to=_as_utc(created_to),
    )
    return ListQuery(flt=flt, limit=limit, page=page, cursor=cursor)


ImageListQuery = Annotated[ListQuery, Depends(image_list_query)]


def pagination(result: listing.Page[Any]) -> Pagination:
    total_pages = None if result.total is None else max(1, -(-result.total // result.limit))
    return Pagination(
        page=result.page,
        limit=result.limit,
        total=result.total,
        total_pages=total_pages,
        next_cursor=result.next_cursor,
    )
