"""v2 upload-group routes: `GET/PATCH/DELETE /v2/groups/{id}` (docs/apis.md, "v2")."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from pinhole.api.principals import ClientPrincipal
from pinhole.api.services import ImagesDep
from pinhole.db.models import Image, ImageGroup
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import GroupPublic, GroupUpdate
from pinhole.dialects.v2.images import to_public
from pinhole.services import groups
from pinhole.services.library import Images

router = APIRouter(tags=["v2"], route_class=V2Route)


async def group_public(request: Request, images: Images, group: ImageGroup, members: Sequence[Image]) -> GroupPublic:
    return GroupPublic(
        id=group.id,
        name=group.name,
        description=group.description,
        external_user_id=group.owner_id,
        created_at=group.created_at,
        updated_at=group.updated_at,
        images=[await to_public(request, images, image) for image in members],
    )


@router.get(
    "/groups/{group_id}", name="groups.get", summary="An upload group and its images", response_model=GroupPublic
)
async def get_group(request: Request, images: ImagesDep, principal: ClientPrincipal, group_id: str) -> GroupPublic:
    group, members = await images.get_group(principal, group_id)
    return await group_public(request, images, group, members)


@router.patch(
    "/groups/{group_id}", name="groups.update", summary="Rename or describe an upload group", response_model=GroupPublic
)
async def update_group(
    request: Request, images: ImagesDep, principal: ClientPrincipal, group_id: str, body: GroupUpdate
) -> GroupPublic:
    changes = groups.GroupChanges(
        name=body.name or None,
        description=body.description or None,
        clear_name="name" in body.model_fields_set and not body.name,
        clear_description="description" in body.model_fields_set and not body.description,
    )
    group, members = await images.update_group(principal, group_id, changes)
    return await group_public(request, images, group, members)


@router.delete("/groups/{group_id}", name="groups.delete", status_code=204, summary="Delete a group and its images")
async def delete_group(images: ImagesDep, principal: ClientPrincipal, group_id: str) -> Response:
    await images.delete_group(principal, group_id)
    return Response(status_code=204)
