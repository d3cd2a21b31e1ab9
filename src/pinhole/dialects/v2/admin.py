"""The v2 admin API: statistics, clients, and every client's images, avatars and albums (docs/apis.md, "v2")."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic.alias_generators import to_camel

from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.params import multipart_body, multipart_fields, parse_bool
from pinhole.api.principals import AdminPrincipal
from pinhole.api.services import AvatarsDep, ImagesDep
from pinhole.db.engine import Database
from pinhole.db.models import Album, Avatar, Client, Image, ProxyClientKey
from pinhole.dialects.v2 import images as image_routes
from pinhole.dialects.v2.admin_schemas import (
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
    PresetCreate,
    PresetList,
    PresetPublic,
    PresetUpdate,
    ProxyKeyCreate,
    ProxyKeyCreated,
    ProxyKeyList,
    ProxyKeyPublic,
    QuotaSettings,
    RuntimeSettingList,
    RuntimeSettingPublic,
    RuntimeSettingsUpdate,
    Totals,
)
from pinhole.dialects.v2.album_schemas import AlbumUpdate
from pinhole.dialects.v2.albums import album_changes, album_public
from pinhole.dialects.v2.avatars import avatar_public
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import TagCount, TagList
from pinhole.dialects.v2.image_listing import ImageListQuery, pagination
from pinhole.dialects.v2.schemas import ImageUpdate
from pinhole.dialects.v2.stats import counters, quota_rows
from pinhole.errors import InvalidInput, NotFound
from pinhole.runtime import Runtime
from pinhole.services import albums as album_service
from pinhole.services import app_settings, listing, proxy_keys
from pinhole.services import avatars as avatar_service
from pinhole.services import clients as client_service
from pinhole.services import stats as stats_service
from pinhole.services import tags as tag_service
from pinhole.services.library import Images
from pinhole.services.preset_store import Preset
from pinhole.services.tags import split_tag_fields
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.multipart import receive_multipart

router = APIRouter(prefix="/admin", tags=["v2"], route_class=V2Route)

MAX_TAG_LIMIT = 500


# --- statistics ---


@router.get("/stats", name="admin.stats", summary="Global and per-client statistics", response_model=AdminStats)
async def admin_stats(db: DatabaseDep, principal: AdminPrincipal) -> AdminStats:
    found = await stats_service.global_stats(db=db)
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
    for key in sorted(body.model_fields_set):
        value = getattr(body, key)
        if value is None:
            await runtime.app_settings.reset(key, user_id=principal.account_id)
        else:
            await runtime.app_settings.set(key, value, user_id=principal.account_id)
    return await _settings(runtime)


# --- transform presets ---


def _preset(preset: Preset) -> PresetPublic:
    return PresetPublic(
        name=preset.name,
        query=preset.query,
        eager=preset.eager,
        configured=preset.configured,
        updated_by=preset.updated_by,
        updated_by_username=preset.updated_by_name,
        updated_at=preset.updated_at,
    )


@router.get("/presets", name="admin.presets.list", summary="List transform presets", response_model=PresetList)
async def list_presets(runtime: RuntimeDep, principal: AdminPrincipal) -> PresetList:
    return PresetList(data=[_preset(preset) for preset in await runtime.presets.describe()])


@router.post(
    "/presets",
    name="admin.presets.create",
    status_code=201,
    summary="Add a transform preset (its query is checked like a request's)",
    response_model=PresetPublic,
)
async def create_preset(runtime: RuntimeDep, principal: AdminPrincipal, body: PresetCreate) -> PresetPublic:
    preset = await runtime.presets.create(body.name, body.query, eager=body.eager, user_id=principal.account_id)
    return _preset(preset)


@router.patch(
    "/presets/{name}",
    name="admin.presets.update",
    summary="Change a transform preset (configured ones are read-only)",
    response_model=PresetPublic,
)
async def update_preset(runtime: RuntimeDep, principal: AdminPrincipal, name: str, body: PresetUpdate) -> PresetPublic:
    preset = await runtime.presets.update(name, query=body.query, eager=body.eager, user_id=principal.account_id)
    return _preset(preset)


@router.delete("/presets/{name}", name="admin.presets.delete", status_code=204, summary="Delete a transform preset")
async def delete_preset(runtime: RuntimeDep, principal: AdminPrincipal, name: str) -> Response:
    await runtime.presets.delete(name, user_id=principal.account_id)
    return Response(status_code=204)


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


async def _detail(db: Database, images: Images, client_id: str) -> AdminClientDetail:
    client = await client_service.get_client(db=db, client_id=client_id)
    own = await stats_service.client_stats(db=db, client_id=client.id)
    limits, usage = await stats_service.quota_usage(
        db=db, defaults=images.quota_defaults, client_id=client.id, owner_id=None
    )
    assert limits is not None  # the client exists
    return AdminClientDetail(
        **_client(client, own),
        limits=EffectiveLimits(**asdict(limits)),
        quota_usage=quota_rows(usage),
    )


@router.get("/clients", name="admin.clients.list", summary="List all clients", response_model=AdminClientList)
async def list_clients(db: DatabaseDep, principal: AdminPrincipal) -> AdminClientList:
    found = await stats_service.global_stats(db=db)
    return AdminClientList(data=[AdminClient(**_client(client, own)) for client, own in found.per_client])


@router.get(
    "/clients/{client_id}", name="admin.clients.get", summary="Get client details", response_model=AdminClientDetail
)
async def get_client(
    db: DatabaseDep, images: ImagesDep, principal: AdminPrincipal, client_id: str
) -> AdminClientDetail:
    return await _detail(db, images, client_id)


@router.patch(
    "/clients/{client_id}",
    name="admin.clients.update",
    summary="Update a client: name, active, quotas, rate limits",
    response_model=AdminClientDetail,
)
async def update_client(
    runtime: RuntimeDep,
    db: DatabaseDep,
    images: ImagesDep,
    principal: AdminPrincipal,
    client_id: str,
    body: AdminClientUpdate,
) -> AdminClientDetail:
    values = {name: getattr(body, name) for name in body.model_fields_set}
    await client_service.update_client(db=db, client_id=client_id, changes=client_service.ClientChanges(values))
    if runtime.limiter is not None and "rate_limits" in values:
        runtime.limiter.forget_own_rules(client_id)  # this process applies them from the next request
    if runtime.variants.clients is not None:
        runtime.variants.clients.forget(client_id)
    return await _detail(db, images, client_id)


# --- per-client proxy keys ---

PROXY_SECRETS = ("key", "salt", "security_key", "token", "api_secret")


def _proxy_key(row: ProxyClientKey | proxy_keys.ProxyKey) -> dict[str, Any]:
    return {"id": row.id, "dialect": row.dialect, "cloud_name": row.cloud_name, "api_key": row.api_key,
            "created_at": row.created_at}  # fmt: skip


@router.get(
    "/clients/{client_id}/proxy-keys",
    name="admin.clients.proxy_keys.list",
    summary="List a client's own proxy-dialect keys (never their secrets)",
    response_model=ProxyKeyList,
)
async def list_proxy_keys(db: DatabaseDep, principal: AdminPrincipal, client_id: str) -> ProxyKeyList:
    rows = await proxy_keys.list_keys(db=db, client_id=client_id)
    return ProxyKeyList(data=[ProxyKeyPublic(**_proxy_key(row)) for row in rows])


@router.post(
    "/clients/{client_id}/proxy-keys",
    name="admin.clients.proxy_keys.create",
    status_code=201,
    summary="Give a client its own key for a proxy dialect (secrets shown once)",
    response_model=ProxyKeyCreated,
)
async def create_proxy_key(
    runtime: RuntimeDep, principal: AdminPrincipal, client_id: str, body: ProxyKeyCreate
) -> ProxyKeyCreated:
    # A secret of another dialect is named too, so the service refuses it instead of it being dropped.
    names = {name for name in PROXY_SECRETS if getattr(body, name) is not None} | set(
        proxy_keys.SECRET_FIELDS[body.dialect]
    )
    request = proxy_keys.KeyRequest(
        dialect=body.dialect,
        secret={name: getattr(body, name) for name in sorted(names)},
        cloud_name=body.cloud_name,
        api_key=body.api_key,
    )
    key = await proxy_keys.add_key(
        db=runtime.db,
        server_secret=runtime.secret,
        client_id=client_id,
        request=request,
        reserved_clouds=frozenset({runtime.settings.dialects.cloudinary.cloud_name}),
        absence=runtime.proxy_key_absence,
    )
    return ProxyKeyCreated(**_proxy_key(key), **key.secret)


@router.delete(
    "/clients/{client_id}/proxy-keys/{key_id}",
    name="admin.clients.proxy_keys.delete",
    status_code=204,
    summary="Remove one of a client's proxy-dialect keys (URLs it signed stop opening at once)",
)
async def delete_proxy_key(db: DatabaseDep, principal: AdminPrincipal, client_id: str, key_id: str) -> Response:
    await proxy_keys.remove_key(db=db, client_id=client_id, key_id=key_id)
    return Response(status_code=204)


# --- images ---


async def _admin_image(request: Request, images: Images, image: Image) -> AdminImage:
    public = await image_routes.to_public(request, images, image)
    return AdminImage(**public.model_dump(), client_id=image.client_id)


@router.get(
    "/images",
    name="admin.images.list",
    summary="List images across every client",
    response_model=AdminImageList,
)
async def list_images(
    request: Request,
    images: ImagesDep,
    db: DatabaseDep,
    principal: AdminPrincipal,
    query: ImageListQuery,
    client_id: Annotated[str | None, Query(alias="clientId", description="Only this client's images.")] = None,
    user_id: Annotated[str | None, Query(alias="userId", description="Only this external user's.")] = None,
    tags: Annotated[list[str] | None, Query(description="Images carrying all of these (repeat or commas).")] = None,
    is_private: Annotated[str | None, Query(alias="isPrivate", description="true or false.")] = None,
) -> AdminImageList:
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
        db=db, principal=principal, flt=flt, limit=query.limit, page=query.page, cursor=query.cursor
    )
    return AdminImageList(
        data=[await _admin_image(request, images, image) for image in result.items], pagination=pagination(result)
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
async def upload_image(request: Request, images: ImagesDep, db: DatabaseDep, principal: AdminPrincipal) -> AdminImage:
    # The client is named inside the form: read up to the server's limit; ingest holds the client's own.
    server_limit = images.quota_defaults.max_file_bytes
    async with receive_multipart(request, tmp_dir=images.work_dir, max_file_bytes=server_limit, max_files=1) as form:
        client_id = (form.first("clientId") or request.query_params.get("clientId") or "").strip()
        if not client_id:
            raise InvalidInput("Name the client in the `clientId` form field.", field="clientId")
        try:
            await client_service.get_client(db=db, client_id=client_id)
        except NotFound:
            raise NotFound("No such client.", field="clientId") from None
        owner = (form.first("userId") or request.query_params.get("userId") or "").strip() or None
        if owner is not None and (len(owner) > 255 or not owner.isprintable()):
            raise InvalidInput("userId must be 1-255 printable characters.", field="userId")
        uploads = image_routes.upload_fields(form, UploadTarget(client_id=client_id, owner_id=owner), album_id=None)
        ingested = await images.ingest(uploads, limit=None)
    return await _admin_image(request, images, ingested.images[0])


@router.get("/images/tags", name="admin.images.tags", summary="List tags with counts", response_model=TagList)
async def list_tags(
    db: DatabaseDep,
    principal: AdminPrincipal,
    search: Annotated[str | None, Query(max_length=64, description="Part of a tag.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TAG_LIMIT)] = 100,
    client_id: Annotated[str | None, Query(alias="clientId", description="Only this client's tags.")] = None,
) -> TagList:
    found = await tag_service.count_tags(
        db=db, principal=principal, search=search, limit=limit, all_clients=True, client_id=client_id
    )
    return TagList(data=[TagCount(tag=t.tag, count=t.count) for t in found])


@router.get("/images/{image_id}", name="admin.images.get", summary="Get image details", response_model=AdminImage)
async def get_image(request: Request, images: ImagesDep, principal: AdminPrincipal, image_id: str) -> AdminImage:
    return await _admin_image(request, images, await images.get_for(principal, image_id))


@router.patch(
    "/images/{image_id}", name="admin.images.update", summary="Update image metadata", response_model=AdminImage
)
async def update_image(
    request: Request, images: ImagesDep, principal: AdminPrincipal, image_id: str, body: ImageUpdate
) -> AdminImage:
    image = await images.update(principal, image_id, image_routes.image_changes(body))
    return await _admin_image(request, images, image)


@router.delete("/images/{image_id}", name="admin.images.delete", status_code=204, summary="Delete an image")
async def delete_image(images: ImagesDep, principal: AdminPrincipal, image_id: str) -> Response:
    await images.delete(principal, image_id)
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


def _admin_avatar(request: Request, avatar: Avatar) -> AdminAvatar:
    public = avatar_public(request, avatar)
    return AdminAvatar(**public.model_dump(), id=avatar.id, client_id=avatar.client_id)


@router.get("/avatars", name="admin.avatars.list", summary="List avatars", response_model=AdminAvatarList)
async def list_avatars(
    request: Request,
    db: DatabaseDep,
    principal: AdminPrincipal,
    page: PageQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    client_id: ClientFilter = None,
    user_id: UserFilter = None,
) -> AdminAvatarList:
    _one_mode(page, cursor)
    result = await avatar_service.list_avatars(
        db=db, principal=principal, client_id=client_id, owner_id=user_id, limit=limit, page=page, cursor=cursor
    )
    return AdminAvatarList(
        data=[_admin_avatar(request, avatar) for avatar in result.items], pagination=pagination(result)
    )


@router.get("/avatars/{avatar_id}", name="admin.avatars.get", summary="Get avatar details", response_model=AdminAvatar)
async def get_avatar(request: Request, db: DatabaseDep, principal: AdminPrincipal, avatar_id: str) -> AdminAvatar:
    avatar = await avatar_service.get_avatar_by_id(db=db, principal=principal, avatar_id=avatar_id)
    return _admin_avatar(request, avatar)


@router.delete("/avatars/{avatar_id}", name="admin.avatars.delete", status_code=204, summary="Delete an avatar")
async def delete_avatar(avatars: AvatarsDep, principal: AdminPrincipal, avatar_id: str) -> Response:
    await avatars.delete_by_id(principal, avatar_id)
    return Response(status_code=204)


# --- albums ---


def _admin_album(album: Album, image_count: int) -> AdminAlbum:
    return AdminAlbum(**album_public(album, image_count).model_dump(), client_id=album.client_id)


@router.get("/albums", name="admin.albums.list", summary="List albums", response_model=AdminAlbumList)
async def list_albums(
    db: DatabaseDep,
    principal: AdminPrincipal,
    page: PageQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    client_id: ClientFilter = None,
    user_id: UserFilter = None,
) -> AdminAlbumList:
    _one_mode(page, cursor)
    result, counts = await album_service.list_albums(
        db=db,
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
async def get_album(db: DatabaseDep, principal: AdminPrincipal, album_id: str) -> AdminAlbum:
    view = await album_service.get_album(db=db, principal=principal, ref=album_id, token=None)
    return _admin_album(view.album, view.image_count)


@router.patch("/albums/{album_id}", name="admin.albums.update", summary="Update an album", response_model=AdminAlbum)
async def update_album(db: DatabaseDep, principal: AdminPrincipal, album_id: str, body: AlbumUpdate) -> AdminAlbum:
    view = await album_service.update_album(db=db, principal=principal, ref=album_id, changes=album_changes(body))
    return _admin_album(view.album, view.image_count)


@router.delete("/albums/{album_id}", name="admin.albums.delete", status_code=204, summary="Delete an album")
async def delete_album(db: DatabaseDep, principal: AdminPrincipal, album_id: str) -> Response:
    await album_service.delete_album(db=db, principal=principal, ref=album_id)
    return Response(status_code=204)
