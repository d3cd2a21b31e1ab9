"""v2 album routes: albums of a user's images, batch add/remove, and album access tokens.

Choices where the document (seed 002) is silent:
- "X-User-Id is required for album operations": every album route called with a client key (X-API-Key) needs
  X-User-Id, else 400 `missing_user_id`; the album belongs to that user. Accounts (access token, browser session,
  `sk_` key) act as themselves. Anonymous callers and token holders send no key, so nothing is required of them.
- `{id}` is our id (a UUID) or, for callers of the album's client, the client's own `albumId` (unique per client:
  a duplicate is 409 `conflict`). Anonymous and token callers must use our id. Upload's `albumId` field takes both.
- Who sees what: a private album is for its owner (and admins) or a holder of one of its tokens; everyone else,
  other users of the client and other clients, gets 404 `album_not_found`. A public album's details and image list
  are readable by anyone, anonymous callers included; but the list then shows only the public images (and, within
  the caller's own client, the images it could list anyway): private images stay private unless the caller is the
  album's owner or holds a token. `imageCount` counts what the caller may see.
- Changing an album (PATCH, DELETE, images, tokens) is for its owner: 404 for callers who may not read it (other
  clients; other users for private albums), 403 for other users of the client when the album is public.
- `GET /v2/albums` lists what the caller may read in its client: its own albums and public albums of other users
  (`owner` narrows it to one user), newest first, paged exactly like `GET /v2/images` (page or cursor).
- `GET /v2/albums/{id}/images` takes the filters and paging of `GET /v2/images`, ordered by upload time.
- `POST`/`DELETE /v2/albums/{id}/images` take `{"imageIds": [...]}` (1 to 100), are idempotent and all-or-nothing:
  ids that are unknown or not readable are 404 `image_not_found`, images the caller may not change (or of another
  client) are 403 `forbidden`, with the ids in the message and in `details.imageIds`. They answer the album.
- Deleting an album (204) deletes its image links and tokens, never its images.
- Tokens (`POST /v2/albums/{id}/tokens`, owner only, `{"expiresIn": seconds}` optional) are `alb_...`, shown once
  (only a hash is kept), and open the album (`GET /v2/albums/{id}?token=`), its image list (all images, private
  ones too) and each image in it (`GET /v2/images/{imageId}?token=`, also `info=true`), nothing else: never an
  image outside the album, never a change. A token can be made for a public album too (it keeps working if the
  album is made private). `DELETE /v2/albums/{id}/tokens/{token}` revokes (204; a token of another album is 404).
- Uploading with `albumId` adds the image in the same transaction: an unknown album (or another client's) is 404
  `album_not_found`, another user's public album 403, and then nothing is stored.
- Rate-limit scopes: `v2.albums.create`, `.list`, `.get`, `.update`, `.delete`, `.add_images`, `.remove_images`,
  `.images`, `.create_token`, `.revoke_token`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.v2.album_schemas import (
    AlbumCreate,
    AlbumImagesChange,
    AlbumList,
    AlbumPublic,
    AlbumTokenCreate,
    AlbumTokenPublic,
    AlbumUpdate,
)
from pinhole.api.v2.auth import ClientPrincipal, OptionalPrincipal
from pinhole.api.v2.errors import V2Route
from pinhole.api.v2.image_listing import ImageListQuery, pagination
from pinhole.api.v2.images import to_public
from pinhole.api.v2.schemas import ImageList
from pinhole.db.models import Album
from pinhole.errors import InvalidInput
from pinhole.services import albums, listing

router = APIRouter(tags=["v2"], route_class=V2Route)

TokenQuery = Annotated[str | None, Query(description="An album token (alb_...) opening a private album.")]


def album_public(album: Album, image_count: int) -> AlbumPublic:
    return AlbumPublic(
        id=album.id,
        album_id=album.external_id,
        name=album.name,
        description=album.description,
        is_public=album.is_public,
        external_user_id=album.owner_id,
        image_count=image_count,
        created_at=album.created_at,
        updated_at=album.updated_at,
    )


def view_public(view: albums.AlbumView) -> AlbumPublic:
    return album_public(view.album, view.image_count)


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput("name must not be blank.", field="name")
    return name


def album_changes(body: AlbumUpdate) -> albums.AlbumChanges:
    """The fields sent, as changes (a field sent empty clears it; `name` cannot be cleared)."""
    given = body.model_fields_set
    if "name" in given and body.name is None:
        raise InvalidInput("name cannot be removed.", field="name")
    external = body.album_id.strip() if body.album_id else None
    return albums.AlbumChanges(
        name=_name(body.name) if body.name is not None else None,
        description=body.description or None,
        clear_description="description" in given and not body.description,
        is_public=body.is_public,
        external_id=external or None,
        clear_external_id="album_id" in given and not external,
    )


@router.post("/albums", name="albums.create", status_code=201, summary="Create an album", response_model=AlbumPublic)
async def create_album(runtime: RuntimeDep, principal: ClientPrincipal, body: AlbumCreate) -> AlbumPublic:
    fields = albums.AlbumFields(
        name=_name(body.name),
        description=body.description or None,
        is_public=body.is_public,
        external_id=body.album_id.strip() if body.album_id and body.album_id.strip() else None,
    )
    return view_public(await albums.create_album(db=runtime.db, principal=principal, fields=fields))


@router.get("/albums", name="albums.list", summary="List albums (paginated)", response_model=AlbumList)
async def list_albums(
    runtime: RuntimeDep,
    principal: ClientPrincipal,
    page: Annotated[int | None, Query(ge=1, le=listing.MAX_PAGE, description="Page number (page mode).")] = None,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page (cursor mode).")] = None,
    owner: Annotated[str | None, Query(description="Only albums of this user.")] = None,
) -> AlbumList:
    if page is not None and cursor is not None:
        raise InvalidInput("Use either page or cursor, not both.", field="cursor")
    result, counts = await albums.list_albums(
        db=runtime.db, principal=principal, owner_id=owner, limit=limit, page=page, cursor=cursor
    )
    return AlbumList(
        data=[album_public(album, counts.get(album.id, 0)) for album in result.items], pagination=pagination(result)
    )


@router.get("/albums/{album_id}", name="albums.get", summary="Get album details", response_model=AlbumPublic)
async def get_album(
    runtime: RuntimeDep, principal: OptionalPrincipal, album_id: str, token: TokenQuery = None
) -> AlbumPublic:
    return view_public(await albums.get_album(db=runtime.db, principal=principal, ref=album_id, token=token))


@router.patch("/albums/{album_id}", name="albums.update", summary="Update album metadata", response_model=AlbumPublic)
async def update_album(
    runtime: RuntimeDep, principal: ClientPrincipal, album_id: str, body: AlbumUpdate
) -> AlbumPublic:
    view = await albums.update_album(db=runtime.db, principal=principal, ref=album_id, changes=album_changes(body))
    return view_public(view)


@router.delete("/albums/{album_id}", name="albums.delete", status_code=204, summary="Delete an album (not its images)")
async def delete_album(runtime: RuntimeDep, principal: ClientPrincipal, album_id: str) -> Response:
    await albums.delete_album(db=runtime.db, principal=principal, ref=album_id)
    return Response(status_code=204)


@router.post(
    "/albums/{album_id}/images", name="albums.add_images", summary="Add images to an album", response_model=AlbumPublic
)
async def add_images(
    runtime: RuntimeDep, principal: ClientPrincipal, album_id: str, body: AlbumImagesChange
) -> AlbumPublic:
    view = await albums.change_images(
        db=runtime.db, principal=principal, ref=album_id, image_ids=body.image_ids, add=True
    )
    return view_public(view)


@router.delete(
    "/albums/{album_id}/images",
    name="albums.remove_images",
    summary="Remove images from an album",
    response_model=AlbumPublic,
)
async def remove_images(
    runtime: RuntimeDep, principal: ClientPrincipal, album_id: str, body: AlbumImagesChange
) -> AlbumPublic:
    view = await albums.change_images(
        db=runtime.db, principal=principal, ref=album_id, image_ids=body.image_ids, add=False
    )
    return view_public(view)


@router.get(
    "/albums/{album_id}/images", name="albums.images", summary="List images in an album", response_model=ImageList
)
async def list_album_images(
    request: Request,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    album_id: str,
    query: ImageListQuery,
    token: TokenQuery = None,
) -> ImageList:
    result = await albums.album_images(
        db=runtime.db,
        principal=principal,
        ref=album_id,
        token=token,
        flt=query.flt,
        limit=query.limit,
        page=query.page,
        cursor=query.cursor,
    )
    return ImageList(
        data=[await to_public(request, runtime, image) for image in result.items], pagination=pagination(result)
    )


@router.post(
    "/albums/{album_id}/tokens",
    name="albums.create_token",
    status_code=201,
    summary="Create an access token for a private album",
    response_model=AlbumTokenPublic,
)
async def create_token(
    request: Request,
    runtime: RuntimeDep,
    principal: ClientPrincipal,
    album_id: str,
    body: Annotated[AlbumTokenCreate | None, Body()] = None,
) -> AlbumTokenPublic:
    expires_in = timedelta(seconds=body.expires_in) if body and body.expires_in else None
    album, new = await albums.create_token(db=runtime.db, principal=principal, ref=album_id, expires_in=expires_in)
    base = f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}"
    return AlbumTokenPublic(
        token=new.token,
        url=f"{base}/albums/{album.id}?token={new.token}",
        expires_at=new.row.expires_at,
        created_at=new.row.created_at,
    )


@router.delete(
    "/albums/{album_id}/tokens/{token}", name="albums.revoke_token", status_code=204, summary="Revoke an album token"
)
async def revoke_token(runtime: RuntimeDep, principal: ClientPrincipal, album_id: str, token: str) -> Response:
    await albums.revoke_token(db=runtime.db, principal=principal, ref=album_id, token=token)
    return Response(status_code=204)
