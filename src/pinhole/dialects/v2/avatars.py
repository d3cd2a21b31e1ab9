"""v2 avatar routes: one avatar per (client, external user), set, served and deleted (docs/apis.md, "v2")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from pinhole.api.delivery import PRIVATE_VARY, Delivery
from pinhole.api.deps import DatabaseDep
from pinhole.api.params import BINARY, multipart_body
from pinhole.api.principals import ClientPrincipal
from pinhole.api.services import AvatarsDep, DeliveryDep, ImagesDep
from pinhole.api.uploads import receive_form
from pinhole.api.urls import url_prefix
from pinhole.db.models import Avatar
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import AvatarPublic
from pinhole.dialects.v2.transform import ServeQuery, ServeQueryDep
from pinhole.errors import BlobNotFound, ImageNotFound, InvalidInput
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.services import avatars

router = APIRouter(tags=["v2"], route_class=V2Route)

# A read fails at most once per replacement that releases what it read meanwhile; past this many, give up.
READ_ATTEMPTS = 20
UPLOAD_BODY = multipart_body(
    {
        "file": BINARY | {"description": "JPEG, PNG, WebP or GIF."},
        "externalUserId": {
            "type": "string",
            "description": "Whose avatar; defaults to X-User-Id, and must match it when both are sent.",
        },
    },
    required=["file"],
)
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/*": {}, "application/json": {"schema": {"$ref": "#/components/schemas/AvatarPublic"}}},
        "description": "The avatar (transformed with w, h, format...); with info=true its metadata.",
    }
}


def avatar_public(request: Request, avatar: Avatar) -> AvatarPublic:
    base = url_prefix(request, "v2.avatars.public", "external_user_id", client_id=avatar.client_id)
    return AvatarPublic(
        external_user_id=avatar.owner_id,
        url=base + avatar.owner_id,  # not a path parameter: an external user id may hold a `/`
        etag=avatar.content_hash[:32],
        mime_type=avatar.mime_type,
        format=avatar.format,
        width=avatar.width,
        height=avatar.height,
        frames=avatar.frames,
        size=avatar.size,
        created_at=avatar.created_at,
        updated_at=avatar.updated_at,
    )


@router.post(
    "/avatars",
    name="avatars.upload",
    status_code=201,
    summary="Upload or replace a user's avatar",
    response_model=AvatarPublic,
    openapi_extra=UPLOAD_BODY,
    responses={200: {"model": AvatarPublic, "description": "Replaced the user's avatar"}},
)
async def upload_avatar(
    request: Request,
    response: Response,
    images: ImagesDep,
    avatar_service: AvatarsDep,
    principal: ClientPrincipal,
) -> AvatarPublic:
    async with receive_form(request, images, client_id=principal.client_id or "") as received:
        form = received.form
        acting, owner_id = avatars.acting_for(principal, form.first("externalUserId"), Action.UPDATE)
        files = form.files_for("file")
        if not files:
            raise InvalidInput("Send the avatar in the `file` form field.", field="file")
        assert acting.client_id is not None  # acting_for refuses callers without a tenant
        saved = await avatar_service.save(
            client_id=acting.client_id,
            owner_id=owner_id,
            path=files[0].path,
            sha256=files[0].sha256,
            limit=received.limit if acting.client_id == principal.client_id else None,
        )
    response.status_code = 201 if saved.created else 200
    return avatar_public(request, saved.avatar)


async def _serve(
    request: Request,
    delivery: Delivery,
    query: ServeQuery,
    load: Callable[[], Awaitable[Avatar | None]],
    *,
    public: bool,
) -> Response:
    """Send the avatar `load` finds, reading it again when a replacement deleted the file it named meanwhile."""
    failed: str | None = None  # the content whose file was missing on the previous attempt
    for _ in range(READ_ATTEMPTS):
        avatar = await load()
        if avatar is None:
            if public and not query.extras.info:
                return delivery.fallback()
            raise avatars.AvatarNotFound()
        if query.extras.info:
            return Response(
                avatar_public(request, avatar).model_dump_json(by_alias=True), media_type="application/json"
            )
        try:
            payload = await delivery.loaded(avatar, query.options)
        except (BlobNotFound, ImageNotFound):
            # Mostly a replacement released the content just read: read the row again. Missing twice for the same
            # content, the variant's record is stale (pruned elsewhere): forget it so it renders again.
            if not query.options.is_identity:
                await delivery.forget_variant(avatar, query.options, stale=failed == avatar.content_hash)
            failed = avatar.content_hash
            continue
        cache = delivery.avatar_cache_control(public=public)
        return await delivery.send(request, payload, cache=cache, vary=None if public else PRIVATE_VARY)
    raise BlobNotFound("The avatar's stored file is missing.")


@router.head(
    "/avatars/{client_id}/{external_user_id}",
    name="avatars.public",
    response_model=None,
    responses=IMAGE_RESPONSES,
    summary="Public avatar headers",
)
@router.get(
    "/avatars/{client_id}/{external_user_id}",
    name="avatars.public",
    response_model=None,
    responses=IMAGE_RESPONSES,
    summary="A user's avatar, without a key (for <img src>)",
)
async def serve_public_avatar(
    request: Request,
    delivery: DeliveryDep,
    db: DatabaseDep,
    client_id: str,
    external_user_id: str,
    query: ServeQueryDep,
) -> Response:
    async def load() -> Avatar | None:
        return await avatars.find_avatar(db=db, client_id=client_id, owner_id=external_user_id)

    return await _serve(request, delivery, query, load, public=True)


@router.head(
    "/avatars/{external_user_id}",
    name="avatars.serve",
    response_model=None,
    responses=IMAGE_RESPONSES,
    summary="Avatar headers",
)
@router.get(
    "/avatars/{external_user_id}",
    name="avatars.serve",
    response_model=None,
    responses=IMAGE_RESPONSES,
    summary="A user's avatar of the calling client (transformed with w, h, format...)",
)
async def serve_avatar(
    request: Request,
    delivery: DeliveryDep,
    db: DatabaseDep,
    principal: ClientPrincipal,
    external_user_id: str,
    query: ServeQueryDep,
) -> Response:
    async def load() -> Avatar | None:
        if principal.client_id is None:
            return None
        found = await avatars.find_avatar(db=db, client_id=principal.client_id, owner_id=external_user_id)
        return found if found is not None and policy.may(principal, Action.VIEW, found) else None

    return await _serve(request, delivery, query, load, public=False)


@router.delete("/avatars/{external_user_id}", name="avatars.delete", status_code=204, summary="Delete a user's avatar")
async def delete_avatar(avatar_service: AvatarsDep, principal: ClientPrincipal, external_user_id: str) -> Response:
    await avatar_service.delete(principal, external_user_id)
    return Response(status_code=204)
