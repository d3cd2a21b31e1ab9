"""v2 avatar routes (seed 002): one avatar per (client, external user), set, served, transformed and deleted.

Choices where the document is silent:
- `POST /v2/avatars` (multipart `file` + `externalUserId`) sets or replaces the avatar: 201 when it is new, 200
  when it replaced one, with the avatar's metadata (`url` is its public URL). `externalUserId` may be left out
  when X-User-Id is sent; when both are sent they must match (403 otherwise). A client key without X-User-Id may
  set any of its users' avatars. A user account's avatar is its own (`externalUserId` = the account id, or none).
  The file is checked like an image upload (formats, limits, metadata stripped); avatars do not count toward the
  image quotas (there is one per user).
- Replacing is atomic: a reader gets the old picture or the new one, never an error. The old original and its
  variants are deleted once no image or avatar refers to them.
- `GET/HEAD /v2/avatars/{externalUserId}` needs the client's key (any user of the client may read it) and takes
  the image transform options (`w`, `h`, `q`, `format`, `thumb`, `fit`, `enlarge`) and `info=true` (JSON
  metadata). No avatar is 404 JSON `avatar_not_found`.
- `GET/HEAD /v2/avatars/{clientId}/{externalUserId}` is the public URL for `<img src>`: no key, same options.
  No avatar (or an unknown client) answers the fallback WebP (200, `no-store`, `X-Pinhole-Fallback: 1`), like a
  missing image, so a page shows a placeholder rather than a broken image; `info=true` answers 404 JSON.
- Caching: the ETag comes from the content (304 on `If-None-Match`), `Cache-Control: public, max-age=N` on the
  public URL and `private, max-age=N` (Vary on the credentials) on the keyed one, N = `delivery.avatar_max_age`
  (300 s by default): short, because a replaced avatar keeps its URL.
- Avatar transforms are not covered by URL signing (`signing.mode`); output limits and the variant cache apply.
- `DELETE /v2/avatars/{externalUserId}` answers 204, or 404 when there is none; the X-User-Id rule is the POST's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from pinhole.api.delivery import PRIVATE_VARY, loaded_payload, send_blob, send_fallback
from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.params import BINARY, multipart_body
from pinhole.db.models import Avatar
from pinhole.dialects.v2.auth import ClientPrincipal
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import AvatarPublic
from pinhole.dialects.v2.transform import ServeQuery, ServeQueryDep
from pinhole.errors import BlobNotFound, ImageNotFound, InvalidInput
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.services import avatars
from pinhole.services.quotas import file_size_limit
from pinhole.services.variant_cache import forget_blobs
from pinhole.uploads.multipart import receive_multipart

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


def avatar_public(request: Request, runtime: Runtime, avatar: Avatar) -> AvatarPublic:
    base = f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}"
    return AvatarPublic(
        external_user_id=avatar.owner_id,
        url=f"{base}/avatars/{avatar.client_id}/{avatar.owner_id}",
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
    request: Request, response: Response, runtime: RuntimeDep, principal: ClientPrincipal
) -> AvatarPublic:
    async with receive_multipart(
        request,
        tmp_dir=runtime.settings.tmp_dir,
        max_file_bytes=await file_size_limit(
            db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=principal.client_id or ""
        ),
        max_files=1,
    ) as form:
        acting, owner_id = avatars.acting_for(principal, form.first("externalUserId"), Action.UPDATE)
        files = form.files_for("file")
        if not files:
            raise InvalidInput("Send the avatar in the `file` form field.", field="file")
        assert acting.client_id is not None  # acting_for refuses callers without a tenant
        saved = await avatars.save_avatar(
            db=runtime.db,
            store=runtime.store,
            pool=runtime.pool,
            policy=runtime.ingest_policy,
            client_id=acting.client_id,
            owner_id=owner_id,
            path=files[0].path,
            sha256=files[0].sha256,
        )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=saved.released)
    response.status_code = 201 if saved.created else 200
    return avatar_public(request, runtime, saved.avatar)


async def _serve(
    request: Request,
    runtime: Runtime,
    query: ServeQuery,
    load: Callable[[], Awaitable[Avatar | None]],
    *,
    public: bool,
) -> Response:
    """Send the avatar `load` finds, reading it again when a replacement deleted the file it named meanwhile."""
    max_age = runtime.settings.delivery.avatar_max_age
    cache = f"{'public' if public else 'private'}, max-age={max_age}"
    failed: str | None = None  # the content whose file was missing on the previous attempt
    for _ in range(READ_ATTEMPTS):
        avatar = await load()
        if avatar is None:
            if public and not query.info:
                return send_fallback()
            raise avatars.AvatarNotFound()
        if query.info:
            return Response(
                avatar_public(request, runtime, avatar).model_dump_json(by_alias=True), media_type="application/json"
            )
        try:
            payload = await loaded_payload(runtime, avatar, query.options)
        except (BlobNotFound, ImageNotFound):
            # Mostly a replacement released the content just read: read the row again. Missing twice for the same
            # content, the variant's record is stale (pruned elsewhere): forget it so it renders again.
            if not query.options.is_identity:
                runtime.variants.drop_known(image=avatar, options=query.options)
                if failed == avatar.content_hash:
                    await runtime.variants.forget(image=avatar, options=query.options)
            failed = avatar.content_hash
            continue
        return await send_blob(request, runtime.store, payload, cache=cache, vary=None if public else PRIVATE_VARY)
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
    request: Request, runtime: RuntimeDep, client_id: str, external_user_id: str, query: ServeQueryDep
) -> Response:
    async def load() -> Avatar | None:
        return await avatars.find_avatar(db=runtime.db, client_id=client_id, owner_id=external_user_id)

    return await _serve(request, runtime, query, load, public=True)


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
    request: Request, runtime: RuntimeDep, principal: ClientPrincipal, external_user_id: str, query: ServeQueryDep
) -> Response:
    async def load() -> Avatar | None:
        if principal.client_id is None:
            return None
        found = await avatars.find_avatar(db=runtime.db, client_id=principal.client_id, owner_id=external_user_id)
        return found if found is not None and policy.may(principal, Action.VIEW, found) else None

    return await _serve(request, runtime, query, load, public=False)


@router.delete("/avatars/{external_user_id}", name="avatars.delete", status_code=204, summary="Delete a user's avatar")
async def delete_avatar(runtime: RuntimeDep, principal: ClientPrincipal, external_user_id: str) -> Response:
    released = await avatars.delete_avatar(
        db=runtime.db, store=runtime.store, principal=principal, external_user_id=external_user_id
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
    return Response(status_code=204)
