"""v2 tag listing: `GET /v2/tags?search=&limit=` (docs/apis.md, "v2")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pinhole.api.deps import DatabaseDep
from pinhole.api.principals import ClientPrincipal
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import TagCount, TagList
from pinhole.services import tags

router = APIRouter(tags=["v2"], route_class=V2Route)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@router.get("/tags", name="tags.list", summary="Tags in use, with how many images carry each", response_model=TagList)
async def list_tags(
    db: DatabaseDep,
    principal: ClientPrincipal,
    search: Annotated[
        str | None, Query(max_length=tags.MAX_TAG_LENGTH, description="Text anywhere in the tag.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most tags to return.")] = DEFAULT_LIMIT,
) -> TagList:
    found = await tags.count_tags(db=db, principal=principal, search=search, limit=limit)
    return TagList(data=[TagCount(tag=item.tag, count=item.count) for item in found])
