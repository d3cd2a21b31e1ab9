"""The trash: images deleted in the web app, restorable for `web.trash_days` (docs/web.md, Trash).

Trashing removes the `images` row in the same transaction as every delete (`images.remove_images`), so no API finds
the image any more and quotas, which count `images` rows, stop counting it at once. A `trashed_images` row keeps
the columns, tags and album memberships, and its content hash keeps the blob (original and cached variants) from
being released. Restoring puts the row back under the same id, after the same quota check as an upload; share links
and the image's Cloudinary public id do not come back. The store sweep empties expired entries (`purge_expired`),
and only then are the files released.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Album, AlbumImage, Image, ImageGroup, ImageTag, TrashedImage, utcnow
from pinhole.errors import ImageNotFound
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import blobs, quotas
from pinhole.services.images import remove_images
from pinhole.storage.base import BlobStore

PURGE_BATCH = 100
_DATETIME = "$datetime"


def _encode(value: Any) -> Any:
    return {_DATETIME: value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    return datetime.fromisoformat(value[_DATETIME]) if isinstance(value, dict) and _DATETIME in value else value


async def _snapshot(session: AsyncSession, image: Image) -> dict[str, Any]:
    columns = {column.key: _encode(getattr(image, column.key)) for column in Image.__table__.columns}
    albums = await session.execute(
        select(AlbumImage.album_id, AlbumImage.added_at).where(AlbumImage.image_id == image.id)
    )
    return {
        "image": columns,
        "tags": image.tag_names,
        "albums": [[album_id, added_at.isoformat()] for album_id, added_at in albums],
    }


def _rebuild(record: dict[str, Any]) -> Image:
    image = Image(**{key: _decode(value) for key, value in record["image"].items()})
    image.tags = [ImageTag(tag=tag) for tag in record.get("tags", [])]
    return image


async def trash_images(session: AsyncSession, store: BlobStore, images: Sequence[Image], *, days: int) -> list[str]:
    """Inside a writer transaction, the images authorized already: move them to the trash for `days` (0: delete
    them for good now). Returns the keys of files deleted (none while the trash holds the content)."""
    if days > 0:
        expires = utcnow() + timedelta(days=days)
        for image in images:
            session.add(
                TrashedImage(
                    id=image.id,
                    client_id=image.client_id,
                    owner_id=image.owner_id,
                    content_hash=image.content_hash,
                    original_name=image.original_name,
                    size=image.size,
                    record=await _snapshot(session, image),
                    expires_at=expires,
                )
            )
        await session.flush()
    return await remove_images(session, store, list(images))


def _may_restore(principal: Principal, entry: TrashedImage) -> bool:
    image = _rebuild(entry.record)
    return policy.can_read_image_info(principal, image) and policy.can_modify_image(principal, image)


async def list_trash(*, db: Database, principal: Principal, everyone: bool = False) -> list[TrashedImage]:
    """The principal's trashed images, newest first; `everyone`: all of them (admins only)."""
    query = select(TrashedImage).order_by(TrashedImage.deleted_at.desc(), TrashedImage.id)
    if not (everyone and principal.is_admin):
        query = query.where(TrashedImage.client_id == principal.client_id, TrashedImage.owner_id == principal.user_id)
    async with db.reader() as session:
        return list(await session.scalars(query.limit(1000)))


async def _entries(session: AsyncSession, principal: Principal, image_ids: Sequence[str]) -> list[TrashedImage]:
    """All or nothing: every id must be a trashed image the principal may restore (its owner, or an admin)."""
    found = {
        entry.id: entry
        for entry in await session.scalars(select(TrashedImage).where(TrashedImage.id.in_(list(image_ids))))
    }
    for image_id in image_ids:
        entry = found.get(image_id)
        if entry is None or not _may_restore(principal, entry):  # a trashed image is nobody else's business
            raise ImageNotFound("The image is not in the trash (it may have been emptied).")
    return [found[image_id] for image_id in dict.fromkeys(image_ids)]


async def restore_images(
    *, db: Database, defaults: quotas.QuotaDefaults, principal: Principal, image_ids: Sequence[str]
) -> list[str]:
    """Put trashed images back under their ids (tags, albums that still exist, group if it still exists).

    Each is checked against the quotas as an upload of its size is: a restore cannot take an account over them.
    """
    async with db.writer() as session:
        entries = await _entries(session, principal, image_ids)
        for entry in entries:
            image = _rebuild(entry.record)
            await quotas.check_upload(
                session=session, defaults=defaults, client_id=image.client_id, owner_id=image.owner_id, size=image.size
            )
            if image.group_id and not await session.scalar(select(exists().where(ImageGroup.id == image.group_id))):
                image.group_id = None
            await session.delete(entry)
            await session.flush()
            session.add(image)
            await session.flush()
            await _rejoin_albums(session, image.id, entry.record.get("albums", []))
    return [entry.id for entry in entries]


async def _rejoin_albums(session: AsyncSession, image_id: str, albums: list[list[str]]) -> None:
    for album_id, added_at in albums:
        if await session.scalar(select(exists().where(Album.id == album_id))):
            session.add(AlbumImage(album_id=album_id, image_id=image_id, added_at=datetime.fromisoformat(added_at)))


async def _drop(session: AsyncSession, store: BlobStore, entries: Sequence[TrashedImage]) -> list[str]:
    hashes = [entry.content_hash for entry in entries]
    await session.execute(delete(TrashedImage).where(TrashedImage.id.in_([entry.id for entry in entries])))
    released: list[str] = []
    for content_hash in dict.fromkeys(hashes):
        released += await blobs.release_blob(session, store, content_hash)
    return released


async def delete_for_good(
    *, db: Database, store: BlobStore, principal: Principal, image_ids: Sequence[str]
) -> list[str]:
    """Empty these trashed images now; their files go unless other images share the content."""
    async with db.writer() as session:
        return await _drop(session, store, await _entries(session, principal, image_ids))


async def purge_expired(*, db: Database, store: BlobStore, now: datetime | None = None) -> tuple[int, list[str]]:
    """Empty the entries past their time (the store sweep calls it). Returns how many, and the file keys released."""
    moment = now or utcnow()
    count, released = 0, list[str]()
    while True:
        async with db.writer() as session:
            query = select(TrashedImage).where(TrashedImage.expires_at <= moment).limit(PURGE_BATCH)
            entries = list(await session.scalars(query))
            if not entries:
                return count, released
            released += await _drop(session, store, entries)
            count += len(entries)


async def user_trash(*, session: AsyncSession, store: BlobStore, client_id: str, owner_id: str) -> list[str]:
    """Inside a writer transaction: empty one account's trash (the account is being deleted)."""
    entries = list(
        await session.scalars(
            select(TrashedImage).where(TrashedImage.client_id == client_id, TrashedImage.owner_id == owner_id)
        )
    )
    return await _drop(session, store, entries) if entries else []
