"""What admins need to moderate accounts: how much an account stores, and deleting an account with everything it
uploaded (docs/admin.md, Moderation).

An account's images are those of the accounts tenant with the account's id as owner. Deleting the account deletes
its images for good (not to the trash: nobody would be left to restore them), its trash, albums and avatar, then the
account row (its sessions, keys, upload keys and reset links go with it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Album, Avatar, Image, TrashedImage, User
from pinhole.errors import Conflict, NotFound
from pinhole.security.principal import Principal
from pinhole.services import blobs, trash
from pinhole.services.images import remove_images
from pinhole.services.library import Images


@dataclass(frozen=True)
class Footprint:
    """What an account holds: what a suspension leaves online and a deletion removes."""

    images: int = 0
    bytes: int = 0
    public_images: int = 0
    public_bytes: int = 0
    trashed: int = 0
    albums: int = 0


async def storage_by_owner(db: Database, user_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(images, bytes) stored by each of these accounts; accounts with none are left out."""
    if not user_ids:
        return {}
    query = (
        select(Image.owner_id, func.count(), func.coalesce(func.sum(Image.size), 0))
        .where(Image.client_id == ACCOUNTS_CLIENT_ID, Image.owner_id.in_(user_ids))
        .group_by(Image.owner_id)
    )
    async with db.reader() as session:
        rows = await session.execute(query)
        return {str(owner): (int(count), int(size)) for owner, count, size in rows}


async def footprint(db: Database, user_id: str) -> Footprint:
    mine = (Image.client_id == ACCOUNTS_CLIENT_ID) & (Image.owner_id == user_id)
    totals = select(func.count(), func.coalesce(func.sum(Image.size), 0))
    async with db.reader() as session:
        images, size = (await session.execute(totals.where(mine))).one()
        public, public_size = (await session.execute(totals.where(mine, Image.is_private.is_(False)))).one()
        trashed = await session.scalar(
            select(func.count()).where(TrashedImage.client_id == ACCOUNTS_CLIENT_ID, TrashedImage.owner_id == user_id)
        )
        albums = await session.scalar(
            select(func.count()).where(Album.client_id == ACCOUNTS_CLIENT_ID, Album.owner_id == user_id)
        )
    return Footprint(int(images), int(size), int(public), int(public_size), int(trashed or 0), int(albums or 0))


async def delete_user(*, images: Images, principal: Principal, user_id: str) -> Footprint:
    """Delete the account and all it uploaded; returns what went. An admin cannot delete their own account here."""
    if user_id == principal.account_id:
        raise Conflict("You cannot delete your own account.", field="user")
    gone = await footprint(images.db, user_id)
    async with images.db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.", field="user")
        owned = list(
            await session.scalars(select(Image).where(Image.client_id == user.client_id, Image.owner_id == user_id))
        )
        released = await remove_images(session, images.store, owned)
        released += await trash.user_trash(
            session=session, store=images.store, client_id=user.client_id, owner_id=user_id
        )
        await session.execute(delete(Album).where(Album.client_id == user.client_id, Album.owner_id == user_id))
        avatar = await session.scalar(
            select(Avatar).where(Avatar.client_id == user.client_id, Avatar.owner_id == user_id)
        )
        await session.delete(user)
        if avatar is not None:
            await session.delete(avatar)
            await session.flush()
            released += await blobs.release_blob(session, images.store, avatar.content_hash)
    for image in owned:
        images.recent.forget(image.id)
    await images.recent.changed(*(image.id for image in owned))
    images.forget_blobs(released)
    return gone
