"""The v2 admin API: global statistics, clients, and images, avatars and albums across every client. Admin
accounts only.

Choices where the document is silent:
- Every route needs an admin account's access token (or browser session) and asks the policy for `ADMINISTER`:
  anonymous callers and client keys get 401, accounts that are not admins 403.
- `GET /admin/clients` is the full list (`{"data": [...]}`, oldest first, each with its counters): deployments
  have few clients, and every row is a primary-key join. The built-in `accounts` tenant is listed too.
- `PATCH /admin/clients/{id}` changes only the fields sent: `name`, `active`, the quotas `quotaBytes`,
  `quotaImages`, `maxFileBytes`, `userQuotaBytes`, `userQuotaImages` (null = the server default, 0 = unlimited)
  and `rateLimits`, the client's own rules (`{"v2.images.upload": "100/minute", "v2": "off"}`), merged over
  the server's for requests with its key (its scopes replace the same scopes, the most specific scope applies);
  null or `{}` removes them. The accounts tenant has no key: `active` and `rateLimits` cannot be set on it.
- `GET /admin/images` lists every client's images with the `GET /v2/images` parameters (page/limit or cursor,
  `tag`, `search`, `owner`, `from`, `to`) plus `clientId`, `userId` (same as `owner`), `tags` (repeated or
  comma-separated: images carrying all of them) and `isPrivate`. Items are the v2 image plus `clientId`.
- `POST /admin/images` uploads on behalf of a client: the v2 upload form plus `clientId` (required) and `userId`
  (optional owner), as form fields or query parameters (the form field wins). That client's file-size limit
  and quotas apply; an unknown client is 404 `not_found`.
- `GET /admin/images/tags`: `{"data": [{"tag", "count"}]}`, most used first, `search` (part of a tag), `limit`
  (1-500, default 100) and `clientId`.
- `GET/PATCH/DELETE /admin/images/{id}` act on any client's image, as the v2 routes do for its owner.
- `GET /admin/avatars` and `GET /admin/albums` list every client's, newest first (page/limit or cursor,
  `clientId`, `userId`); items are the v2 shapes plus `clientId` (and the avatar's `id`, which the v2 avatar
  routes do not need: they name the user). `{id}` is our id; a client's own `albumId` is only unique per client.
- `GET /admin/settings` lists the run-time settings (`{"data": [{"key", "value", "configured", "overridden",
  "updatedBy", ...}]}`); `PATCH /admin/settings` changes the keys sent (`{"guestUploads": false}`; null resets a
  setting to its configured value) and answers the new list. Values must have the setting's JSON type (no
  `"false"` strings). Other server processes see a change within `server.settings_cache_seconds`.
- Route names `admin.stats`, `admin.settings.get|update`, `admin.clients.list|get|update`,
  `admin.images.list|upload|tags|get|update|delete`,
  `admin.avatars.list|get|delete`, `admin.albums.list|get|update|delete`; rate-limit scopes `v2.<name>`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic.alias_generators import to_camel

from pinhole.api.deps import RuntimeDep
from pinhole.api.params import multipart_body, multipart_fields, parse_bool
from pinhole.api.v2 import images as image_routes
from pinhole.api.v2.admin_schemas import (
    AdminAlbum,
    AdminAlbumList,
    AdminAvatar,
    AdminAvatarList,
    AdminClient,
    AdminClientDetail,
    AdminClientList,
    AdminClientUpdate,
    AdminImage,
    AdminImageList,
    AdminStats,
    ClientStatsRow,
    EffectiveLimits,
    QuotaSettings,
    RuntimeSettingList,
    RuntimeSettingPublic,
    RuntimeSettingsUpdate,
    Totals,
)
from pinhole.api.v2.album_schemas import AlbumUpdate
from pinhole.api.v2.albums import album_changes, album_public
from pinhole.api.v2.auth import AdminPrincipal
from pinhole.api.v2.avatars import avatar_public
from pinhole.api.v2.errors import V2Route
from pinhole.api.v2.group_schemas import TagCount, TagList
from pinhole.api.v2.image_listing import ImageListQuery, pagination
from pinhole.api.v2.schemas import ImageUpdate
from pinhole.api.v2.stats import counters, quota_rows
from pinhole.db.models import Album, Avatar, Client, Image
from pinhole.errors import InvalidInput, NotFound
from pinhole.runtime import Runtime
from pinhole.security.policy import Action, require
from pinhole.security.principal import Principal
from pinhole.services import albums as album_service
from pinhole.services import app_settings, listing
from pinhole.services import avatars as avatar_service
from pinhole.services import clients as client_service
from pinhole.services import images as image_service
from pinhole.services import stats as stats_service
from pinhole.services import tags as tag_service
from pinhole.services.ingest import ingest_image
from pinhole.services.tags import split_tag_fields
from pinhole.services.variant_cache import forget_blobs
from pinhole.uploads.multipart import receive_multipart

router = APIRouter(prefix="/admin", tags=["v2"], route_class=V2Route)

MAX_TAG_LIMIT = 500


def _administer(principal: Principal) -> None:
    require(principal, Action.ADMINISTER, hide=False)


# --- statistics ---


@router.get("/stats", name="admin.stats", summary="Global and per-client statistics", response_model=AdminStats)
async def admin_stats(runtime: RuntimeDep, principal: AdminPrincipal) -> AdminStats:
    _administer(principal)
    found = await stats_service.global_stats(db=runtime.db)
    totals = Totals(clients=found.clients, **(asdict(found.sums) | asdict(found.totals)))
    rows = [
        ClientStatsRow(client_id=client.id, name=client.name, active=client.active, **asdict(own))
        for client, own in found.per_client
    ]
    return AdminStats(totals=totals, clients=rows)


# --- run-time settings ---


def _setting(state: app_settings.SettingState) -> RuntimeSettingPublic:
    return RuntimeSettingPublic(
        key=to_camel(state.setting.key),
        type="boolean",
        description=state.setting.description,
        value=state.value,
        configured=state.configured,
        overridden=state.overridden,
        updated_by=state.updated_by,
        updated_by_username=state.updated_by_name,
        updated_at=state.updated_at,
    )


async def _settings(runtime: Runtime) -> RuntimeSettingList:
    return RuntimeSettingList(data=[_setting(state) for state in await runtime.app_settings.describe()])


@router.get("/settings", name="admin.settings.get", summary="List run-time settings", response_model=RuntimeSettingList)
async def get_settings(runtime: RuntimeDep, principal: AdminPrincipal) -> RuntimeSettingList:
    _administer(principal)
    return await _settings(runtime)


@router.patch(
    "/settings",
    name="admin.settings.update",
    summary="Change run-time settings (null resets one to its configured value)",
    response_model=RuntimeSettingList,
)
async def update_settings(
    runtime: RuntimeDep, principal: AdminPrincipal, body: RuntimeSettingsUpdate
) -> RuntimeSettingList:
    _administer(principal)
    for key in sorted(body.model_fields_set):
        value = getattr(body, key)
        if value is None:
            await runtime.app_settings.reset(key, user_id=principal.account_id)
        else:
            await runtime.app_settings.set(key, value, user_id=principal.account_id)
    return await _settings(runtime)


# --- clients ---


def _client(client: Client, own: stats_service.ClientStats) -> dict[str, Any]:
    usable = client_service.has_usable_key(client)
    return {
        "id": client.id,
        "name": client.name,
        "active": client.active,
        "key_prefix": client.api_key_prefix if usable else None,
        "has_key": usable,
        "created_at": client.created_at,
        "key_rotated_at": client.key_rotated_at,
        "quotas": QuotaSettings(**{name: getattr(client, name) for name in client_service.QUOTA_FIELDS}),
        "rate_limits": client.rate_limits or None,
        "stats": counters(own),
    }


async def _detail(runtime: Runtime, client_id: str) -> AdminClientDetail:
    client = await client_service.get_client(db=runtime.db, client_id=client_id)
    own = await stats_service.client_stats(db=runtime.db, client_id=client.id)
    limits, usage = await stats_service.quota_usage(
        db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=client.id, owner_id=None
    )
    assert limits is not None  # the client exists
    return AdminClientDetail(
        **_client(client, own),
        limits=EffectiveLimits(**asdict(limits)),
        quota_usage=quota_rows(usage),
    )


@router.get("/clients", name="admin.clients.list", summary="List all clients", response_model=AdminClientList)
async def list_clients(runtime: RuntimeDep, principal: AdminPrincipal) -> AdminClientList:
    _administer(principal)
    found = await stats_service.global_stats(db=runtime.db)
    return AdminClientList(data=[AdminClient(**_client(client, own)) for client, own in found.per_client])


@router.get(
    "/clients/{client_id}", name="admin.clients.get", summary="Get client details", response_model=AdminClientDetail
)
async def get_client(runtime: RuntimeDep, principal: AdminPrincipal, client_id: str) -> AdminClientDetail:
    _administer(principal)
    return await _detail(runtime, client_id)


@router.patch(
    "/clients/{client_id}",
    name="admin.clients.update",
    summary="Update a client: name, active, quotas, rate limits",
    response_model=AdminClientDetail,
)
async def update_client(
    runtime: RuntimeDep, principal: AdminPrincipal, client_id: str, body: AdminClientUpdate
) -> AdminClientDetail:
    _administer(principal)
    values = {name: getattr(body, name) for name in body.model_fields_set}
    await client_service.update_client(db=runtime.db, client_id=client_id, changes=client_service.ClientChanges(values))
    if runtime.limiter is not None and "rate_limits" in values:
        runtime.limiter.forget_own_rules(client_id)  # this process applies them from the next request
    return await _detail(runtime, client_id)


# --- images ---


async def _admin_image(request: Request, runtime: Runtime, image: Image) -> AdminImage:
    public = await image_routes.to_public(request, runtime, image)
    return AdminImage(**public.model_dump(), client_id=image.client_id)


@router.get(
    "/images",
    name="admin.images.list",
    summary="List images across every client",
    response_model=AdminImageList,
)
async def list_images(
    request: Request,
    runtime: RuntimeDep,
    principal: AdminPrincipal,
    query: ImageListQuery,
    client_id: Annotated[str | None, Query(alias="clientId", description="Only this client's images.")] = None,
    user_id: Annotated[str | None, Query(alias="userId", description="Only this external user's.")] = None,
    tags: Annotated[list[str] | None, Query(description="Images carrying all of these (repeat or commas).")] = None,
    is_private: Annotated[str | None, Query(alias="isPrivate", description="true or false.")] = None,
) -> AdminImageList:
    _administer(principal)
    if user_id is not None and query.flt.owner_id is not None and user_id != query.flt.owner_id:
        raise InvalidInput("Use either userId or owner, not both.", field="userId")
    flt = replace(
        query.flt,
        all_clients=True,
        client_id=client_id,
        owner_id=user_id if user_id is not None else query.flt.owner_id,
        tags=split_tag_fields(tags or []),
        is_private=None if is_private is None else parse_bool(is_private, field="isPrivate"),
    )
    result = await listing.list_images(
        db=runtime.db, principal=principal, flt=flt, limit=query.limit, page=query.page, cursor=query.cursor
    )
    return AdminImageList(
        data=[await _admin_image(request, runtime, image) for image in result.items], pagination=pagination(result)
    )


@router.post(
    "/images",
    name="admin.images.upload",
    status_code=201,
    summary="Upload an image on behalf of a client",
    response_model=AdminImage,
    openapi_extra=multipart_body(
        multipart_fields(image_routes.UPLOAD_BODY)
        | {
            "clientId": {"type": "string", "description": "The client the image belongs to."},
            "userId": {"type": "string", "description": "The client's external user that owns it."},
        },
        required=["file", "clientId"],
    ),
)
async def upload_image(request: Request, runtime: RuntimeDep, principal: AdminPrincipal) -> AdminImage:
    _administer(principal)
    # The client is named inside the form: read up to the server's limit; ingest holds the client's own.
    async with receive_multipart(
        request,
        tmp_dir=runtime.settings.tmp_dir,
        max_file_bytes=runtime.ingest_policy.quotas.max_file_bytes,
        max_files=1,
    ) as form:
        client_id = (form.first("clientId") or request.query_params.get("clientId") or "").strip()
        if not client_id:
            raise InvalidInput("Name the client in the `clientId` form field.", field="clientId")
        try:
            await client_service.get_client(db=runtime.db, client_id=client_id)
        except NotFound:
            raise NotFound("No such client.", field="clientId") from None
        owner = (form.first("userId") or request.query_params.get("userId") or "").strip() or None
        if owner is not None and (len(owner) > 255 or not owner.isprintable()):
            raise InvalidInput("userId must be 1-255 printable characters.", field="userId")
        (upload,) = image_routes.upload_fields(form, client_id, owner, album_id=None)
        image = await ingest_image(
            db=runtime.db, store=runtime.store, pool=runtime.pool, policy=runtime.ingest_policy, upload=upload
        )
    return await _admin_image(request, runtime, image)


@router.get("/images/tags", name="admin.images.tags", summary="List tags with counts", response_model=TagList)
async def list_tags(
    runtime: RuntimeDep,
    principal: AdminPrincipal,
    search: Annotated[str | None, Query(max_length=64, description="Part of a tag.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TAG_LIMIT)] = 100,
    client_id: Annotated[str | None, Query(alias="clientId", description="Only this client's tags.")] = None,
) -> TagList:
    _administer(principal)
    found = await tag_service.count_tags(
        db=runtime.db, principal=principal, search=search, limit=limit, all_clients=True, client_id=client_id
    )
    return TagList(data=[TagCount(tag=t.tag, count=t.count) for t in found])


@router.get("/images/{image_id}", name="admin.images.get", summary="Get image details", response_model=AdminImage)
async def get_image(request: Request, runtime: RuntimeDep, principal: AdminPrincipal, image_id: str) -> AdminImage:
    _administer(principal)
    image = await image_service.get_image_for(db=runtime.db, principal=principal, image_id=image_id)
    return await _admin_image(request, runtime, image)


@router.patch(
    "/images/{image_id}", name="admin.images.update", summary="Update image metadata", response_model=AdminImage
)
async def update_image(
    request: Request, runtime: RuntimeDep, principal: AdminPrincipal, image_id: str, body: ImageUpdate
) -> AdminImage:
    _administer(principal)
    changes = image_routes.image_changes(body)
    image = await image_service.update_image(
        db=runtime.db, recent=runtime.recent, principal=principal, image_id=image_id, changes=changes
    )
    return await _admin_image(request, runtime, image)


@router.delete("/images/{image_id}", name="admin.images.delete", status_code=204, summary="Delete an image")
async def delete_image(runtime: RuntimeDep, principal: AdminPrincipal, image_id: str) -> Response:
    _administer(principal)
    released = await image_service.delete_image(
        db=runtime.db, recent=runtime.recent, store=runtime.store, principal=principal, image_id=image_id
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
    return Response(status_code=204)


# --- avatars ---

PageQuery = Annotated[int | None, Query(ge=1, le=listing.MAX_PAGE, description="Page number (page mode).")]
LimitQuery = Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)]
CursorQuery = Annotated[str | None, Query(description="nextCursor of the previous page (cursor mode).")]
ClientFilter = Annotated[str | None, Query(alias="clientId", description="Only this client's.")]
UserFilter = Annotated[str | None, Query(alias="userId", description="Only this external user's.")]


def _one_mode(page: int | None, cursor: str | None) -> None:
    if page is not None and cursor is not None:
        raise InvalidInput("Use either page or cursor, not both.", field="cursor")


def _admin_avatar(request: Request, runtime: Runtime, avatar: Avatar) -> AdminAvatar:
    public = avatar_public(request, runtime, avatar)
    return AdminAvatar(**public.model_dump(), id=avatar.id, client_id=avatar.client_id)


@router.get("/avatars", name="admin.avatars.list", summary="List avatars", response_model=AdminAvatarList)
async def list_avatars(
    request: Request,
    runtime: RuntimeDep,
    principal: AdminPrincipal,
    page: PageQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    client_id: ClientFilter = None,
    user_id: UserFilter = None,
) -> AdminAvatarList:
    _administer(principal)
    _one_mode(page, cursor)
    result = await avatar_service.list_avatars(
        db=runtime.db, principal=principal, client_id=client_id, owner_id=user_id, limit=limit, page=page, cursor=cursor
    )
    return AdminAvatarList(
        data=[_admin_avatar(request, runtime, avatar) for avatar in result.items], pagination=pagination(result)
    )


@router.get("/avatars/{avatar_id}", name="admin.avatars.get", summary="Get avatar details", response_model=AdminAvatar)
async def get_avatar(request: Request, runtime: RuntimeDep, principal: AdminPrincipal, avatar_id: str) -> AdminAvatar:
    _administer(principal)
    avatar = await avatar_service.get_avatar_by_id(db=runtime.db, principal=principal, avatar_id=avatar_id)
    return _admin_avatar(request, runtime, avatar)


@router.delete("/avatars/{avatar_id}", name="admin.avatars.delete", status_code=204, summary="Delete an avatar")
async def delete_avatar(runtime: RuntimeDep, principal: AdminPrincipal, avatar_id: str) -> Response:
    _administer(principal)
    released = await avatar_service.delete_avatar_by_id(
        db=runtime.db, store=runtime.store, principal=principal, avatar_id=avatar_id
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
    return Response(status_code=204)


# --- albums ---


def _admin_album(album: Album, image_count: int) -> AdminAlbum:
    return AdminAlbum(**album_public(album, image_count).model_dump(), client_id=album.client_id)


@router.get("/albums", name="admin.albums.list", summary="List albums", response_model=AdminAlbumList)
async def list_albums(
    runtime: RuntimeDep,
    principal: AdminPrincipal,
    page: PageQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    client_id: ClientFilter = None,
    user_id: UserFilter = None,
) -> AdminAlbumList:
    _administer(principal)
    _one_mode(page, cursor)
    result, counts = await album_service.list_albums(
        db=runtime.db,
        principal=principal,
        owner_id=user_id,
        limit=limit,
        page=page,
        cursor=cursor,
        all_clients=True,
        client_id=client_id,
    )
    return AdminAlbumList(
        data=[_admin_album(album, counts.get(album.id, 0)) for album in result.items], pagination=pagination(result)
    )


@router.get("/albums/{album_id}", name="admin.albums.get", summary="Get album details", response_model=AdminAlbum)
async def get_album(runtime: RuntimeDep, principal: AdminPrincipal, album_id: str) -> AdminAlbum:
    _administer(principal)
    view = await album_service.get_album(db=runtime.db, principal=principal, ref=album_id, token=None)
    return _admin_album(view.album, view.image_count)


@router.patch("/albums/{album_id}", name="admin.albums.update", summary="Update an album", response_model=AdminAlbum)
async def update_album(runtime: RuntimeDep, principal: AdminPrincipal, album_id: str, body: AlbumUpdate) -> AdminAlbum:
    _administer(principal)
    view = await album_service.update_album(
        db=runtime.db, principal=principal, ref=album_id, changes=album_changes(body)
    )
    return _admin_album(view.album, view.image_count)


@router.delete("/albums/{album_id}", name="admin.albums.delete", status_code=204, summary="Delete an album")
async def delete_album(runtime: RuntimeDep, principal: AdminPrincipal, album_id: str) -> Response:
    _administer(principal)
    await album_service.delete_album(db=runtime.db, principal=principal, ref=album_id)
    return Response(status_code=204)
