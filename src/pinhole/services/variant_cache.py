"""Variant cache upkeep: how big the stored variants are, and evicting the least recently used down to a budget.

Variants can always be rendered again from their original, so evicting one costs a render, never data. Remote
originals (`services.remote_origins`) are a cache of their origin too: they count against the same budget and are
evicted in the same least-recently-used order (their row, then their blob when nothing else refers to it).
Rows go first (in short transactions, one batch at a time), files after, so a crash leaves at worst a file no row
refers to, never a row that makes a request fail: a request that still finds a pruned variant (another process's
memory, or a row read just before the delete) gets `BlobNotFound` when sending it, forgets it and renders again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_

from pinhole.db.engine import Database
from pinhole.db.models import RemoteOriginal, Variant
from pinhole.errors import StorageError
from pinhole.services import blobs
from pinhole.services.memory_cache import MemoryCache
from pinhole.services.variants import VariantService
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass(frozen=True)
class CacheStats:
    variants: int
    bytes: int  # variants and remote originals
    origins: int = 0  # remote originals


@dataclass(frozen=True)
class PruneResult:
    evicted: int
    bytes_freed: int
    bytes_remaining: int  # the total when the prune started, less what it freed (renders meanwhile not counted)
    dry_run: bool = False


async def cache_stats(*, db: Database) -> CacheStats:
    # A SUM over every row: fine at today's sizes (a million variants is well under a second); a running total
    # kept on insert and delete would make it constant-time if it ever shows up in profiles.
    async with db.reader() as session:
        count, total = (await session.execute(select(func.count(), func.coalesce(func.sum(Variant.size), 0)))).one()
        origins, origin_bytes = (
            await session.execute(select(func.count(), func.coalesce(func.sum(RemoteOriginal.size), 0)))
        ).one()
    return CacheStats(variants=int(count), bytes=int(total) + int(origin_bytes), origins=int(origins))


async def prune_variants(
    *,
    db: Database,
    store: BlobStore,
    max_bytes: int,
    target_bytes: int | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    forget: Callable[[Collection[str]], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> PruneResult:
    """When variants take more than `max_bytes`, evict the least recently used until they take `target_bytes`.

    `target_bytes` (default `max_bytes`) below the budget leaves headroom, so the next prune is not due at the next
    render. `forget` is told each batch's keys right after its rows are gone (to drop in-process copies);
    `keep_going` is asked between batches (a stopping server finishes the batch it is in, then returns).
    """
    target = max_bytes if target_bytes is None else min(target_bytes, max_bytes)
    total = (await cache_stats(db=db)).bytes
    evicted = freed = 0
    after: _Cursor | None = None
    while total > max_bytes and total - freed > target and keep_going():
        batch = _enough(await _coldest(db, after=after, limit=batch_size), total - freed - target)
        if not batch:
            break
        after = _advanced(after, batch)
        gone = batch if dry_run else await _evict(db, store, batch, forget)
        evicted += len(gone)
        freed += sum(row.size for row in gone)
    return PruneResult(evicted=evicted, bytes_freed=freed, bytes_remaining=total - freed, dry_run=dry_run)


@dataclass(frozen=True)
class _Cold:
    id: int
    key: str  # a remote original's content hash
    size: int
    last_accessed_at: datetime
    origin: str | None = None  # a remote original's url hash


_Cursor = tuple[tuple[datetime, int] | None, tuple[datetime, str] | None]  # where each table's paging stands


async def _coldest(db: Database, *, after: _Cursor | None, limit: int) -> list[_Cold]:
    """The `limit` least recently used of variants and remote originals together, oldest first."""
    variants_after, origins_after = after or (None, None)
    query = select(Variant.id, Variant.key, Variant.size, Variant.last_accessed_at)
    if variants_after is not None:  # keyset paging: rows skipped (touched since we read them) are not read again
        query = query.where(tuple_(Variant.last_accessed_at, Variant.id) > tuple_(*variants_after))
    remote = RemoteOriginal
    origins = select(remote.url_hash, remote.content_hash, remote.size, remote.last_accessed_at)
    if origins_after is not None:
        origins = origins.where(tuple_(remote.last_accessed_at, remote.url_hash) > tuple_(*origins_after))
    async with db.reader() as session:
        rows = await session.execute(query.order_by(Variant.last_accessed_at, Variant.id).limit(limit))
        found = [_Cold(*row) for row in rows]
        fetched = await session.execute(origins.order_by(remote.last_accessed_at, remote.url_hash).limit(limit))
        found += [_Cold(0, content_hash, size, at, origin=url_hash) for url_hash, content_hash, size, at in fetched]
    return sorted(found, key=lambda row: (row.last_accessed_at, row.origin is not None))[:limit]


def _advanced(after: _Cursor | None, batch: Sequence[_Cold]) -> _Cursor:
    variants_after, origins_after = after or (None, None)
    for row in batch:
        if row.origin is None:
            variants_after = (row.last_accessed_at, row.id)
        else:
            origins_after = (row.last_accessed_at, row.origin)
    return variants_after, origins_after


def _enough(rows: Sequence[_Cold], excess: int) -> list[_Cold]:
    """The shortest prefix of `rows` whose sizes reach `excess` (all of them when they do not)."""
    chosen, covered = [], 0
    for row in rows:
        if covered >= excess:
            break
        chosen.append(row)
        covered += row.size
    return chosen


async def _evict(
    db: Database, store: BlobStore, batch: list[_Cold], forget: Callable[[Collection[str]], None] | None
) -> list[_Cold]:
    """Delete the batch's rows, then their files; returns the rows this call deleted."""
    # A variant served since we read it has a newer access time than the batch's newest and stays.
    cutoff = batch[-1].last_accessed_at
    origins = await _evict_origins(db, store, [row for row in batch if row.origin is not None], cutoff, forget)
    batch = [row for row in batch if row.origin is None]
    ids = [row.id for row in batch]
    async with db.writer() as session:
        deleted = set(
            await session.scalars(
                delete(Variant)
                .where(Variant.id.in_(ids), Variant.last_accessed_at <= cutoff)
                .returning(Variant.id)
                .execution_options(synchronize_session=False)
            )
        )
    gone = [row for row in batch if row.id in deleted]
    keys = [row.key for row in gone]
    if forget is not None:
        forget(keys)
    await _delete_files(db, store, keys)
    return origins + gone


async def _evict_origins(
    db: Database,
    store: BlobStore,
    batch: list[_Cold],
    cutoff: datetime,
    forget: Callable[[Collection[str]], None] | None,
) -> list[_Cold]:
    """Delete remote originals' rows (not served since they were read), then their blobs when nothing else
    refers to them (a hosted image of the same bytes keeps its blob)."""
    if not batch:
        return []
    async with db.writer() as session:
        deleted = set(
            await session.scalars(
                delete(RemoteOriginal)
                .where(RemoteOriginal.url_hash.in_([row.origin for row in batch]))
                .where(RemoteOriginal.last_accessed_at <= cutoff)
                .returning(RemoteOriginal.url_hash)
                .execution_options(synchronize_session=False)
            )
        )
        gone = [row for row in batch if row.origin in deleted]
        keys: list[str] = []
        for content_hash in dict.fromkeys(row.key for row in gone):
            keys += await blobs.release_blob(session, store, content_hash)
    if forget is not None:
        forget(keys)
    return gone


async def _delete_files(db: Database, store: BlobStore, keys: list[str]) -> None:
    if not keys:
        return
    # A request may have rendered the same variant again since the rows went: its file is live, keep it.
    async with db.reader() as session:
        back = set(await session.scalars(select(Variant.key).where(Variant.key.in_(keys))))
    for key in keys:
        if key in back:
            continue
        try:
            await store.delete(key)
        except StorageError:
            log.exception("could not delete pruned variant file %s; it is left behind", key)


def forget_blobs(*, variants: VariantService, hot: MemoryCache, keys: Collection[str]) -> None:
    """Drop this process's copies of blobs that are gone from the store (pruned, or their original deleted)."""
    if keys:
        variants.forget_keys(keys)
        hot.discard(keys)
