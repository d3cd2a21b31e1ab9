"""Blobs: originals stored once per content hash, which images and avatars alias. Claiming one, releasing one.

A blob lives while an image, an avatar, a trashed image (`services.trash`) or a fetched remote original refers to
its content hash. The last reference gone, its row, its stored original and every variant (rows and files) go too,
unless the blob is `preserved` (a delete with `preserveOnDisk`): then the row and the original stay for the
operator's retention
(`storage.preserved_retention_days`), and only the variants (a cache that can be rendered again) go.
Callers drop this process's in-memory copies of the returned keys after the transaction (`forget_blobs`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Avatar, Blob, Image, RemoteOriginal, TrashedImage, Variant, utcnow
from pinhole.storage.base import BlobStore
from pinhole.storage.keys import variants_prefix


async def claim_blob(db: Database, session: AsyncSession, *, content_hash: str, key: str, size: int) -> bool:
    """Insert the blob row, or lock the existing one so a concurrent release waits for us. True if inserted."""
    stmt = (
        db.insert(Blob)
        .values(content_hash=content_hash, key=key, size=size)
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(Blob.content_hash)
    )
    if await session.scalar(stmt) is not None:
        return True
    await session.execute(select(Blob.content_hash).where(Blob.content_hash == content_hash).with_for_update())
    return False


async def hold_blob(session: AsyncSession, content_hash: str) -> None:
    """Lock an existing blob until the transaction ends: a release running meanwhile waits, then sees the new
    reference (a row pointed at this content in the same transaction) and keeps it."""
    await session.execute(select(Blob.content_hash).where(Blob.content_hash == content_hash).with_for_update())


async def preserve_blob(session: AsyncSession, content_hash: str) -> None:
    """Keep this blob's original (and row) on disk even when nothing refers to it any more: for
    `storage.preserved_retention_days` from now (`services.store_sweep.purge_kept`)."""
    await session.execute(
        update(Blob).where(Blob.content_hash == content_hash).values(preserved=True, preserved_at=utcnow())
    )


async def is_referenced(session: AsyncSession, content_hash: str) -> bool:
    images = exists().where(Image.content_hash == content_hash)
    avatars = exists().where(Avatar.content_hash == content_hash)
    remote = exists().where(RemoteOriginal.content_hash == content_hash)  # a fetched origin's copy
    trashed = exists().where(TrashedImage.content_hash == content_hash)  # restorable until the trash is emptied
    return bool(await session.scalar(select(images | avatars | remote | trashed)))


async def release_blob(session: AsyncSession, store: BlobStore, content_hash: str) -> list[str]:
    """Inside a writer transaction, after a reference went: delete the blob when nothing refers to it any more.

    Returns the keys of the files deleted. The row is locked first, so an upload of the same bytes running
    concurrently either finishes before (and the blob stays) or starts after (and writes the file again); files go
    while the lock is held for the same reason.
    """
    blob = await session.scalar(select(Blob).where(Blob.content_hash == content_hash).with_for_update())
    if blob is None or await is_referenced(session, content_hash):
        return []
    keys = list(await session.scalars(select(Variant.key).where(Variant.content_hash == content_hash)))
    await session.execute(delete(Variant).where(Variant.content_hash == content_hash))
    if not blob.preserved:
        await session.delete(blob)
        keys.append(blob.key)
    await session.flush()
    # Also files no row names (a render that lost a race with a release): every variant lives under the prefix.
    keys += [key async for key in store.list_keys(variants_prefix(content_hash)) if key not in keys]
    for key in keys:
        await store.delete(key)
    return keys


async def release_blobs(*, db: Database, store: BlobStore, content_hashes: Iterable[str]) -> list[str]:
    """`release_blob` for each hash, in a transaction of its own (after the one that dropped the references)."""
    released: list[str] = []
    async with db.writer() as session:
        for content_hash in dict.fromkeys(content_hashes):
            released += await release_blob(session, store, content_hash)
    return released
