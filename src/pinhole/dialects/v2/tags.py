"""v2 tag listing: `GET /v2/tags?search=&limit=` (seed 002 has it for admins as `/admin/images/tags`).

Choices where the document is silent:
- The tags of the images the caller may read in its own tenant; with X-User-Id (or as a user account) only that
  user's images count. Upload keys may not list (403).
- `{"data": [{"tag", "count"}]}`: `count` is how many of those images carry the tag; most used first, then by
  name. `limit` defaults to 50, at most 500. `search` matches anywhere in the tag (substring, case-insensitive,
  `%` and `_` are literal), so `sea` finds `seaside` and `sunset-sea`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pinhole.api.deps import RuntimeDep
from pinhole.dialects.v2.auth import ClientPrincipal
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import TagCount, TagList
from pinhole.services import tags

router = APIRouter(tags=["v2"], route_class=V2Route)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@router.get("/tags", name="tags.list", summary="Tags in use, with how many images carry each", response_model=TagList)
async def list_tags(
    runtime: RuntimeDep,
    principal: ClientPrincipal,
    search: Annotated[
        str | None, Query(max_length=tags.MAX_TAG_LENGTH, description="Text anywhere in the tag.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most tags to return.")] = DEFAULT_LIMIT,
) -> TagList:
    found = await tags.count_tags(db=runtime.db, principal=principal, search=search, limit=limit)
    return TagList(data=[TagCount(tag=item.tag, count=item.count) for item in found])
