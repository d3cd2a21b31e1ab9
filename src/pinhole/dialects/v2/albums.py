"""v2 album routes: albums of a user's images, batch add/remove, album access tokens (docs/apis.md, "v2")."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from pinhole.api.deps import DatabaseDep
from pinhole.api.principals import ClientPrincipal, OptionalPrincipal
from pinhole.api.services import ImagesDep
from pinhole.api.urls import url_for
from pinhole.db.models import Album
from pinhole.dialects.v2.album_schemas import (
    AlbumCreate,
    AlbumImagesChange,
    AlbumList,
    AlbumPublic,
    AlbumTokenCreate,
    AlbumTokenPublic,
    AlbumUpdate,
)
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.image_listing import ImageListQuery, pagination
from pinhole.dialects.v2.images import to_public
from pinhole.dialects.v2.schemas import ImageList
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
async def create_album(db: DatabaseDep, principal: ClientPrincipal, body: AlbumCreate) -> AlbumPublic:
    fields = albums.AlbumFields(
        name=_name(body.name),
        description=body.description or None,
        is_public=body.is_public,
        external_id=body.album_id.strip() if body.album_id and body.album_id.strip() else None,
    )
    return view_public(await albums.create_album(db=db, principal=principal, fields=fields))


@router.get("/albums", name="albums.list", summary="List albums (paginated)", response_model=AlbumList)
async def list_albums(
    db: DatabaseDep,
    principal: ClientPrincipal,
    page: Annotated[int | None, Query(ge=1, le=listing.MAX_PAGE, description="Page number (page mode).")] = None,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page (cursor mode).")] = None,
    owner: Annotated[str | None, Query(description="Only albums of this user.")] = None,
) -> AlbumList:
    if page is not None and cursor is not None:
        raise InvalidInput("Use either page or cursor, not both.", field="cursor")
    result, counts = await albums.list_albums(
        db=db, principal=principal, owner_id=owner, limit=limit, page=page, cursor=cursor
    )
    return AlbumList(
        data=[album_public(album, counts.get(album.id, 0)) for album in result.items], pagination=pagination(result)
    )


@router.get("/albums/{album_id}", name="albums.get", summary="Get album details", response_model=AlbumPublic)
async def get_album(
    db: DatabaseDep, principal: OptionalPrincipal, album_id: str, token: TokenQuery = None
) -> AlbumPublic:
    return view_public(await albums.get_album(db=db, principal=principal, ref=album_id, token=token))


@router.patch("/albums/{album_id}", name="albums.update", summary="Update album metadata", response_model=AlbumPublic)
async def update_album(db: DatabaseDep, principal: ClientPrincipal, album_id: str, body: AlbumUpdate) -> AlbumPublic:
    view = await albums.update_album(db=db, principal=principal, ref=album_id, changes=album_changes(body))
    return view_public(view)


@router.delete("/albums/{album_id}", name="albums.delete", status_code=204, summary="Delete an album (not its images)")
async def delete_album(db: DatabaseDep, principal: ClientPrincipal, album_id: str) -> Response:
    await albums.delete_album(db=db, principal=principal, ref=album_id)
    return Response(status_code=204)


@router.post(
    "/albums/{album_id}/images", name="albums.add_images", summary="Add images to an album", response_model=AlbumPublic
)
async def add_images(
    db: DatabaseDep, principal: ClientPrincipal, album_id: str, body: AlbumImagesChange
) -> AlbumPublic:
    view = await albums.change_images(db=db, principal=principal, ref=album_id, image_ids=body.image_ids, add=True)
    return view_public(view)


@router.delete(
    "/albums/{album_id}/images",
    name="albums.remove_images",
    summary="Remove images from an album",
    response_model=AlbumPublic,
)
async def remove_images(
    db: DatabaseDep, principal: ClientPrincipal, album_id: str, body: AlbumImagesChange
) -> AlbumPublic:
    view = await albums.change_images(db=db, principal=principal, ref=album_id, image_ids=body.image_ids, add=False)
    return view_public(view)


@router.get(
    "/albums/{album_id}/images", name="albums.images", summary="List images in an album", response_model=ImageList
)
async def list_album_images(
    request: Request,
    images: ImagesDep,
    db: DatabaseDep,
    principal: OptionalPrincipal,
    album_id: str,
    query: ImageListQuery,
    token: TokenQuery = None,
) -> ImageList:
    result = await albums.album_images(
        db=db,
        principal=principal,
        ref=album_id,
        token=token,
        flt=query.flt,
        limit=query.limit,
        page=query.page,
        cursor=query.cursor,
    )
    return ImageList(
        data=[await to_public(request, images, image) for image in result.items], pagination=pagination(result)
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
    db: DatabaseDep,
    principal: ClientPrincipal,
    album_id: str,
    body: Annotated[AlbumTokenCreate | None, Body()] = None,
) -> AlbumTokenPublic:
    expires_in = timedelta(seconds=body.expires_in) if body and body.expires_in else None
    album, new = await albums.create_token(db=db, principal=principal, ref=album_id, expires_in=expires_in)
    return AlbumTokenPublic(
        token=new.token,
        url=f"{url_for(request, 'v2.albums.get', album_id=album.id)}?token={new.token}",
        expires_at=new.row.expires_at,
        created_at=new.row.created_at,
    )


@router.delete(
    "/albums/{album_id}/tokens/{token}", name="albums.revoke_token", status_code=204, summary="Revoke an album token"
)
async def revoke_token(db: DatabaseDep, principal: ClientPrincipal, album_id: str, token: str) -> Response:
    await albums.revoke_token(db=db, principal=principal, ref=album_id, token=token)
    return Response(status_code=204)
