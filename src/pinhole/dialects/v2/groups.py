"""v2 upload-group routes: `GET/PATCH/DELETE /v2/groups/{id}` (seed 000's `groupId`).

Choices where the documents are silent:
- A group is made by `POST /v2/images` with several `file` parts, all or nothing: if any file is refused, nothing
  is stored and the error names the file (`File 2 (b.png): ...`, `details.file` = its 0-based position,
  `details.filename`). The answer is 201 `{"groupId", "data": [image, ...]}` in the order sent; each image has
  `groupId`. One file makes no group and answers the image itself, as before. Quotas count the whole request.
- A group is owned like its images (same client and X-User-Id) and is private to its owner: anyone else, another
  user or another client, gets 404 (`group_not_found`) for every route.
- GET answers the group's metadata and its images (`images`, oldest first); PATCH changes `name` and
  `description` (null or "" clears one); DELETE (204) deletes the group and all its images, each with the image
  delete's rules: a blob goes when no image or avatar refers to it any more.
- Deleting an image leaves its group; deleting the last image of a group deletes the group.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import RuntimeDep
from pinhole.db.models import Image, ImageGroup
from pinhole.dialects.v2.auth import ClientPrincipal
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import GroupPublic, GroupUpdate
from pinhole.dialects.v2.images import to_public
from pinhole.runtime import Runtime
from pinhole.services import groups
from pinhole.services.variant_cache import forget_blobs

router = APIRouter(tags=["v2"], route_class=V2Route)


async def group_public(request: Request, runtime: Runtime, group: ImageGroup, images: Sequence[Image]) -> GroupPublic:
    return GroupPublic(
        id=group.id,
        name=group.name,
        description=group.description,
        external_user_id=group.owner_id,
        created_at=group.created_at,
        updated_at=group.updated_at,
        images=[await to_public(request, runtime, image) for image in images],
    )


@router.get(
    "/groups/{group_id}", name="groups.get", summary="An upload group and its images", response_model=GroupPublic
)
async def get_group(request: Request, runtime: RuntimeDep, principal: ClientPrincipal, group_id: str) -> GroupPublic:
    group, images = await groups.get_group(db=runtime.db, principal=principal, group_id=group_id)
    return await group_public(request, runtime, group, images)


@router.patch(
    "/groups/{group_id}", name="groups.update", summary="Rename or describe an upload group", response_model=GroupPublic
)
async def update_group(
    request: Request, runtime: RuntimeDep, principal: ClientPrincipal, group_id: str, body: GroupUpdate
) -> GroupPublic:
    changes = groups.GroupChanges(
        name=body.name or None,
        description=body.description or None,
        clear_name="name" in body.model_fields_set and not body.name,
        clear_description="description" in body.model_fields_set and not body.description,
    )
    group, images = await groups.update_group(db=runtime.db, principal=principal, group_id=group_id, changes=changes)
    return await group_public(request, runtime, group, images)


@router.delete("/groups/{group_id}", name="groups.delete", status_code=204, summary="Delete a group and its images")
async def delete_group(runtime: RuntimeDep, principal: ClientPrincipal, group_id: str) -> Response:
    released = await groups.delete_group(
        db=runtime.db, recent=runtime.recent, store=runtime.store, principal=principal, group_id=group_id
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
    return Response(status_code=204)
