"""Albums: named collections of a user's images, shown whole to their owner and token holders.

Authorization is asked of `security.policy` (albums are `Owned`: `client_id`, `owner_id`, `is_private`).
Album operations of a client key act for one of its users, so they need X-User-Id (`require_acting_user`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Album, AlbumImage, AlbumToken, Image, utcnow
from pinhole.errors import AlbumNotFound, Conflict, Forbidden, ImageNotFound, MissingUserId
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.security.principal import Principal, Via
from pinhole.services import album_tokens, listing
from pinhole.services.sorting import ImageSort, sorted_images

MAX_BATCH = 100


@dataclass(frozen=True)
class AlbumFields:
    name: str
    description: str | None = None
    is_public: bool = False
    external_id: str | None = None


@dataclass(frozen=True)
class AlbumChanges:
    name: str | None = None
    description: str | None = None
    clear_description: bool = False
    is_public: bool | None = None
    external_id: str | None = None
    clear_external_id: bool = False


@dataclass(frozen=True)
class AlbumView:
    album: Album
    image_count: int
    whole: bool  # the caller sees the album's private images too (its owner, an admin, a token holder)


def require_acting_user(principal: Principal) -> None:
    if principal.via is Via.CLIENT_KEY and principal.user_id is None:
        raise MissingUserId("Album operations need the X-User-Id header (the user acted for).", field="X-User-Id")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def _find(session: AsyncSession, principal: Principal, ref: str) -> Album | None:
    """By our id; else by the client's own `albumId` within the caller's tenant."""
    album = await session.get(Album, ref) if _is_uuid(ref) else None
    if album is None and principal.client_id is not None and len(ref) <= 255:
        album = await session.scalar(
            select(Album).where(Album.client_id == principal.client_id, Album.external_id == ref)
        )
    return album


async def _manageable(session: AsyncSession, principal: Principal, ref: str, action: Action) -> Album:
    """The album if the caller may do `action` on it; 404 when it may not even read it, else 403."""
    album = await _find(session, principal, ref)
    if album is None or not policy.may(principal, Action.READ, album):
        raise AlbumNotFound("Album not found.")
    if not policy.may(principal, action, album):
        raise Forbidden("Only the album's owner may change it.")
    return album


async def _counts(
    session: AsyncSession, album_ids: list[str], visible: ColumnElement[bool] | None = None
) -> dict[str, int]:
    """Images per album; with `visible`, only those images."""
    if not album_ids:
        return {}
    query = select(AlbumImage.album_id, func.count()).where(AlbumImage.album_id.in_(album_ids))
    if visible is not None:
        query = query.join(Image, Image.id == AlbumImage.image_id).where(visible)
    rows = await session.execute(query.group_by(AlbumImage.album_id))
    return {str(album_id): int(count) for album_id, count in rows}


async def _view(session: AsyncSession, principal: Principal, album: Album, *, whole: bool) -> AlbumView:
    visible = None if whole else images_visible(principal, whole=False)
    counts = await _counts(session, [album.id], visible)
    return AlbumView(album=album, image_count=counts.get(album.id, 0), whole=whole)


async def _check_external_id(session: AsyncSession, *, client_id: str, external_id: str, album_id: str | None) -> None:
    taken = await session.scalar(select(Album.id).where(Album.client_id == client_id, Album.external_id == external_id))
    if taken is not None and taken != album_id:
        raise Conflict("An album with this albumId exists already.", field="albumId")


async def create_album(*, db: Database, principal: Principal, fields: AlbumFields) -> AlbumView:
    policy.require(principal, Action.CREATE)
    require_acting_user(principal)
    assert principal.client_id is not None
    try:
        async with db.writer() as session:
            if fields.external_id is not None:
                await _check_external_id(
                    session, client_id=principal.client_id, external_id=fields.external_id, album_id=None
                )
            album = Album(
                client_id=principal.client_id,
                owner_id=principal.user_id,
                external_id=fields.external_id,
                name=fields.name,
                description=fields.description,
                is_public=fields.is_public,
            )
            session.add(album)
            await session.flush()
            view = AlbumView(album=album, image_count=0, whole=True)
    except IntegrityError as exc:  # the same albumId made concurrently
        raise Conflict("An album with this albumId exists already.", field="albumId") from exc
    return view


async def get_album(*, db: Database, principal: Principal, ref: str, token: str | None) -> AlbumView:
    """The album if the caller may see it: public albums to anyone, private ones to their owner or a token holder."""
    require_acting_user(principal)
    async with db.reader() as session:
        album = await _find(session, principal, ref)
        token_ok = album is not None and await album_tokens.token_album_id(session, token=token) == album.id
        if album is None or not policy.may(principal, Action.VIEW, album, token_grants=token_ok):
            raise AlbumNotFound("Album not found.")
        return await _view(
            session, principal, album, whole=policy.can_see_whole_album(principal, album, token_grants=token_ok)
        )


async def list_albums(
    *,
    db: Database,
    principal: Principal,
    owner_id: str | None,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
    all_clients: bool = False,
    client_id: str | None = None,
) -> tuple[listing.Page[Album], dict[str, int]]:
    """The albums the caller may read in its tenant (its own, and public ones), newest first, with image counts.

    `all_clients` (administrators only: the admin API) lists every client's, optionally only `client_id`'s."""
    policy.require(principal, Action.ADMINISTER if all_clients else Action.LIST, hide=False)
    require_acting_user(principal)
    query = select(Album).where(policy.readable_filter(principal, Album, public=Album.is_public.is_(True)))
    if principal.is_admin and not all_clients:  # as for images: a listing stays within the tenant acted in
        query = query.where(Album.client_id == principal.client_id)
    if client_id is not None:
        query = query.where(Album.client_id == client_id)
    if owner_id is not None:
        query = query.where(Album.owner_id == owner_id)
    async with db.reader() as session:
        result = await listing.paginate(session, query, Album, limit=limit, page=page, cursor=cursor)
        whole = [a.id for a in result.items if policy.can_see_whole_album(principal, a)]
        partial = [a.id for a in result.items if a.id not in whole]
        counts = await _counts(session, whole) | await _counts(session, partial, images_visible(principal, whole=False))
    return result, counts


async def update_album(*, db: Database, principal: Principal, ref: str, changes: AlbumChanges) -> AlbumView:
    require_acting_user(principal)
    try:
        async with db.writer() as session:
            album = await _manageable(session, principal, ref, Action.UPDATE)
            if changes.external_id is not None:
                await _check_external_id(
                    session, client_id=album.client_id, external_id=changes.external_id, album_id=album.id
                )
                album.external_id = changes.external_id
            if changes.clear_external_id:
                album.external_id = None
            if changes.name is not None:
                album.name = changes.name
            if changes.clear_description or changes.description is not None:
                album.description = changes.description
            if changes.is_public is not None:
                album.is_public = changes.is_public
            album.updated_at = utcnow()
            await session.flush()
            view = await _view(session, principal, album, whole=True)
    except IntegrityError as exc:
        raise Conflict("An album with this albumId exists already.", field="albumId") from exc
    return view


async def delete_album(*, db: Database, principal: Principal, ref: str) -> None:
    """Delete the album, its image links and its tokens; never its images."""
    require_acting_user(principal)
    async with db.writer() as session:
        album = await _manageable(session, principal, ref, Action.DELETE)
        await session.execute(delete(AlbumImage).where(AlbumImage.album_id == album.id))
        await session.execute(delete(AlbumToken).where(AlbumToken.album_id == album.id))
        await session.delete(album)


async def change_images(*, db: Database, principal: Principal, ref: str, image_ids: list[str], add: bool) -> AlbumView:
    """Add (or remove) images, all or none: each must be an image of the album's tenant the caller may change.

    Adding an image already in the album, or removing one that is not, changes nothing (idempotent).
    """
    require_acting_user(principal)
    wanted = list(dict.fromkeys(image_ids))
    async with db.writer() as session:
        album = await _manageable(session, principal, ref, Action.UPDATE)
        await _check_images(session, principal, album, wanted)
        if add:
            present = set(
                await session.scalars(
                    select(AlbumImage.image_id).where(AlbumImage.album_id == album.id, AlbumImage.image_id.in_(wanted))
                )
            )
            session.add_all(AlbumImage(album_id=album.id, image_id=i) for i in wanted if i not in present)
        else:
            await session.execute(
                delete(AlbumImage).where(AlbumImage.album_id == album.id, AlbumImage.image_id.in_(wanted))
            )
        album.updated_at = utcnow()
        await session.flush()
        return await _view(session, principal, album, whole=True)


async def _check_images(session: AsyncSession, principal: Principal, album: Album, image_ids: list[str]) -> None:
    valid = [i for i in image_ids if _is_uuid(i)]
    found = {image.id: image for image in await session.scalars(select(Image).where(Image.id.in_(valid)))}
    missing = [i for i in image_ids if i not in found or not policy.can_read_image_info(principal, found[i])]
    if missing:
        raise ImageNotFound(f"Images not found: {', '.join(missing)}.", field="imageIds", details={"imageIds": missing})
    refused = [
        i
        for i in image_ids
        if not policy.can_modify_image(principal, found[i]) or found[i].client_id != album.client_id
    ]
    if refused:
        raise Forbidden(
            f"You may not change these images: {', '.join(refused)}.", field="imageIds", details={"imageIds": refused}
        )


def images_visible(principal: Principal, *, whole: bool) -> ColumnElement[bool]:
    """Which of an album's images the caller sees: all of them when `whole`, else public ones and its own."""
    if whole:
        return true()
    return or_(Image.is_private.is_(False), policy.readable_filter(principal, Image))


async def album_images(
    *,
    db: Database,
    principal: Principal,
    ref: str,
    token: str | None,
    flt: listing.ImageFilter,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
) -> listing.Page[Image]:
    view = await get_album(db=db, principal=principal, ref=ref, token=token)
    flt = listing.ImageFilter(
        tag=flt.tag,
        search=flt.search,
        owner_id=flt.owner_id,
        created_from=flt.created_from,
        created_to=flt.created_to,
        album_id=view.album.id,
    )
    visible = images_visible(principal, whole=view.whole)
    return await listing.list_images(
        db=db, principal=principal, flt=flt, limit=limit, page=page, cursor=cursor, visible=visible
    )


async def sorted_album_images(
    *, db: Database, principal: Principal, ref: str, token: str | None, sort: ImageSort, page: int, limit: int
) -> tuple[list[Image], bool]:
    """Page `page` of the album's images that `album_images` would show, in `sort` order (services.sorting)."""
    view = await get_album(db=db, principal=principal, ref=ref, token=token)
    return await sorted_images(
        db=db,
        principal=principal,
        flt=listing.ImageFilter(album_id=view.album.id),
        sort=sort,
        page=page,
        limit=limit,
        visible=images_visible(principal, whole=view.whole),
    )


async def create_token(
    *, db: Database, principal: Principal, ref: str, expires_in: timedelta | None
) -> tuple[Album, album_tokens.NewAlbumToken]:
    require_acting_user(principal)
    async with db.writer() as session:
        album = await _manageable(session, principal, ref, Action.SHARE)
        new = await album_tokens.create_token(session, album=album, expires_in=expires_in)
    return album, new


async def revoke_token(*, db: Database, principal: Principal, ref: str, token: str) -> None:
    require_acting_user(principal)
    async with db.writer() as session:
        album = await _manageable(session, principal, ref, Action.SHARE)
        await album_tokens.revoke_token(session, album=album, token=token)


async def list_tokens(*, db: Database, principal: Principal, ref: str) -> list[AlbumToken]:
    """The album's live tokens (by hash: the tokens themselves are not kept), for those who may share it."""
    require_acting_user(principal)
    async with db.reader() as session:
        album = await _manageable(session, principal, ref, Action.SHARE)
        return await album_tokens.live_tokens(session, album=album)


async def revoke_token_hash(*, db: Database, principal: Principal, ref: str, token_hash: str) -> None:
    require_acting_user(principal)
    async with db.writer() as session:
        album = await _manageable(session, principal, ref, Action.SHARE)
        await album_tokens.revoke_token_hash(session, album=album, token_hash=token_hash)


async def albums_of_image(*, db: Database, principal: Principal, image_id: str) -> list[Album]:
    """The albums holding this image that the caller may change, by name."""
    require_acting_user(principal)
    async with db.reader() as session:
        rows = await session.scalars(
            select(Album)
            .join(AlbumImage, AlbumImage.album_id == Album.id)
            .where(AlbumImage.image_id == image_id)
            .order_by(Album.name, Album.id)
        )
        return [album for album in rows if policy.may(principal, Action.UPDATE, album)]


async def album_for_upload(*, db: Database, principal: Principal, ref: str, client_id: str) -> str:
    """The id of the album an upload goes into: the caller's own, in the upload's tenant (404 / 403 otherwise)."""
    require_acting_user(principal)
    async with db.reader() as session:
        album = await _find(session, principal, ref)
        if album is None or album.client_id != client_id or not policy.may(principal, Action.READ, album):
            raise AlbumNotFound("Album not found.", field="albumId")
        if not policy.may(principal, Action.UPDATE, album):
            raise Forbidden("Only the album's owner may add images to it.", field="albumId")
        return album.id


async def attach_image(session: AsyncSession, *, album_id: str, image_id: str) -> None:
    """Inside the upload's transaction: link the new image to the album (gone meanwhile: 404, nothing stored)."""
    album = await session.scalar(select(Album).where(Album.id == album_id).with_for_update())
    if album is None:
        raise AlbumNotFound("Album not found.", field="albumId")
    session.add(AlbumImage(album_id=album_id, image_id=image_id))
    album.updated_at = utcnow()
    await session.flush()
