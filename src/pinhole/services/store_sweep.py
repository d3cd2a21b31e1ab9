"""Crash-safe storage upkeep: the sweep that reconciles the blob store with the database (docs/deploy.md).

A killed process can leave temp files (received uploads, normalised originals, the local store's half-written
files, S3 multipart uploads) and originals placed before the transaction that records them committed. The sweep
removes what is older than a grace period (so an upload in flight, here or on another instance, is never touched),
deletes blobs no row refers to, reports rows whose blob is missing, and deletes kept (`preserveOnDisk`) blobs past
their retention and empties trashed images past `web.trash_days`. Each server runs it at start-up and every
`storage.sweep_interval_seconds`; `pinhole store check [--repair]` runs it on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import delete, func, select, update

from pinhole.db.engine import Database
from pinhole.db.models import Blob, Variant
from pinhole.observability.storage import unwrap_store
from pinhole.services import blobs, trash
from pinhole.storage.base import BlobEntry, BlobStore, Inventory
from pinhole.storage.keys import original_key, variants_prefix

log = logging.getLogger(__name__)

TEMP_PREFIXES = ("upload-", "original-")  # uploads.sink and imaging.ingest name their temp files so
ORIGINALS = "originals/"
VARIANTS = "variants/"
BATCH = 500

Progress = Callable[[int], None]
Forget = Callable[[Collection[str]], None]


@dataclass
class SweepReport:
    repair: bool
    grace_seconds: float
    temp_files: int = 0  # in the temp folder, older than the grace period
    store_temp: int = 0  # the store's own leftovers (local temp files, unfinished S3 multipart uploads)
    originals: int = 0  # originals examined
    orphans: list[str] = field(default_factory=list)  # originals no row refers to, older than the grace period
    young_orphans: int = 0  # the same, younger: left for a later sweep
    variants: int = 0
    variant_orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # content hashes whose row names a blob the store lacks
    kept_purged: list[str] = field(default_factory=list)
    trash_emptied: int = 0  # trashed images past `web.trash_days` deleted for good (services.trash)

    @property
    def ok(self) -> bool:
        """Nothing is missing, and (after a repair) nothing is left over."""
        leftovers = self.temp_files or self.store_temp or self.orphans or self.variant_orphans
        return not self.missing and (self.repair or not leftovers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repair": self.repair,
            "graceSeconds": self.grace_seconds,
            "tempFiles": self.temp_files,
            "storeTempFiles": self.store_temp,
            "originals": self.originals,
            "orphans": self.orphans,
            "youngOrphans": self.young_orphans,
            "variants": self.variants,
            "variantOrphans": self.variant_orphans,
            "missing": self.missing,
            "keptPurged": self.kept_purged,
            "trashEmptied": self.trash_emptied,
        }


async def sweep(
    *,
    db: Database,
    store: BlobStore,
    tmp_dir: Path,
    grace_seconds: float,
    retention_days: int,
    repair: bool,
    progress: Progress | None = None,
    forget: Forget | None = None,
) -> SweepReport:
    """Everything the sweep does, once. Without `repair` it only counts and reports."""
    now = datetime.now(UTC)
    older_than = now - timedelta(seconds=grace_seconds)
    report = SweepReport(repair=repair, grace_seconds=grace_seconds)
    report.temp_files = await to_thread.run_sync(_sweep_temp_dir, tmp_dir, older_than.timestamp(), repair)
    inventory = unwrap_store(store)  # listing is not counted as store traffic
    if isinstance(inventory, Inventory):
        report.store_temp = await inventory.remove_stale_temp(older_than, remove=repair)
        await _reconcile_originals(db, store, inventory, report, older_than=older_than, progress=progress)
        await _reconcile_variants(db, store, inventory, report, older_than=older_than, progress=progress)
    else:  # a store that cannot list with ages: only the temp folder and retention
        log.warning("the blob store %s cannot be reconciled (no list_entries)", type(store).__name__)
    released: list[str] = []
    if repair:
        report.trash_emptied, released = await trash.purge_expired(db=db, store=store, now=now)
    if repair and retention_days > 0:
        report.kept_purged = await purge_kept(db=db, store=store, older_than=now - timedelta(days=retention_days))
    if forget is not None:
        forget([original_key(h) for h in report.kept_purged] + report.variant_orphans + released)
    return report


async def count_entries(db: Database) -> int:
    """Roughly what a sweep walks (rows of originals and variants), for a progress bar's total."""
    async with db.reader() as session:
        originals = await session.scalar(select(func.count()).select_from(Blob)) or 0
        variants = await session.scalar(select(func.count()).select_from(Variant)) or 0
    return int(originals) + int(variants)


def _sweep_temp_dir(tmp_dir: Path, before: float, repair: bool) -> int:
    found = 0
    with contextlib.suppress(FileNotFoundError):
        for path in tmp_dir.iterdir():
            if not path.name.startswith(TEMP_PREFIXES) or not path.is_file():
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < before:
                    found += 1
                    if repair:
                        path.unlink()
    return found


# --- originals: a merge of two streams sorted by content hash -------------------------------------------------


async def _blob_rows(db: Database) -> AsyncIterator[tuple[str, str]]:
    """(content hash, key) of every blob row, by content hash, in keyset batches (constant memory)."""
    after = ""
    while True:
        async with db.reader() as session:
            query = select(Blob.content_hash, Blob.key).where(Blob.content_hash > after)
            rows = (await session.execute(query.order_by(Blob.content_hash).limit(BATCH))).all()
        for content_hash, key in rows:
            yield content_hash, key
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


async def _stored_originals(store: Inventory) -> AsyncIterator[tuple[str, BlobEntry]]:
    """(content hash, entry) of every stored original. `originals/ab/cd/<hash>` sorts like its hash."""
    async for entry in store.list_entries(ORIGINALS):
        content_hash = entry.key.rpartition("/")[2]
        with contextlib.suppress(ValueError):  # a foreign name under originals/ is no original of ours
            if original_key(content_hash) == entry.key:
                yield content_hash, entry


async def _reconcile_originals(
    db: Database,
    store: BlobStore,
    inventory: Inventory,
    report: SweepReport,
    *,
    older_than: datetime,
    progress: Progress | None,
) -> None:
    stored, rows = _stored_originals(inventory), _blob_rows(db)
    entry, row = await anext(stored, None), await anext(rows, None)
    while entry is not None or row is not None:
        if row is None or (entry is not None and entry[0] < row[0]):
            assert entry is not None
            await _orphan(db, store, report, entry[0], entry[1], older_than=older_than)
            entry = await anext(stored, None)
            report.originals += 1
            _tick(progress)
        elif entry is None or row[0] < entry[0]:
            await _check_missing(store, report, row[0], row[1])
            row = await anext(rows, None)
        else:
            entry, row = await anext(stored, None), await anext(rows, None)
            report.originals += 1
            _tick(progress)


async def _orphan(
    db: Database, store: BlobStore, report: SweepReport, content_hash: str, entry: BlobEntry, *, older_than: datetime
) -> None:
    if entry.modified >= older_than:
        report.young_orphans += 1
        return
    if not report.repair:
        report.orphans.append(entry.key)
        return
    if await remove_orphan(db=db, store=store, content_hash=content_hash, entry=entry):
        report.orphans.append(entry.key)


async def remove_orphan(*, db: Database, store: BlobStore, content_hash: str, entry: BlobEntry) -> bool:
    """Delete an original (and any variant files) no row refers to, unless an upload claims it meanwhile.

    The sweep claims the blob row itself first, in a writer transaction: an upload of the same bytes running now
    waits for it (and then stores the file again), or has committed its row already (and the file stays).
    """
    async with db.writer() as session:
        claim = (
            db.insert(Blob)
            .values(content_hash=content_hash, key=entry.key, size=entry.size)
            .on_conflict_do_nothing(index_elements=["content_hash"])
            .returning(Blob.content_hash)
        )
        if await session.scalar(claim) is None:
            return False  # a row refers to it now
        await store.delete(entry.key)
        async for key in store.list_keys(variants_prefix(content_hash)):
            await store.delete(key)
        await session.execute(delete(Blob).where(Blob.content_hash == content_hash))
    log.info("removed orphan original %s", entry.key)
    return True


async def _check_missing(store: BlobStore, report: SweepReport, content_hash: str, key: str) -> None:
    # Stat again: the file may have been written after the listing passed its place (a concurrent upload).
    if await store.stat(key) is None:
        report.missing.append(content_hash)
        log.error("blob %s is recorded but missing from the store (%s)", content_hash, key)


# --- variants: files without a row (a render interrupted between its file and its row) -----------------------


async def _reconcile_variants(
    db: Database,
    store: BlobStore,
    inventory: Inventory,
    report: SweepReport,
    *,
    older_than: datetime,
    progress: Progress | None,
) -> None:
    batch: list[BlobEntry] = []
    async for entry in inventory.list_entries(VARIANTS):
        batch.append(entry)
        if len(batch) >= BATCH:
            await _variant_batch(db, store, report, batch, older_than=older_than)
            _tick(progress, len(batch))
            batch = []
    if batch:
        await _variant_batch(db, store, report, batch, older_than=older_than)
        _tick(progress, len(batch))


async def _variant_batch(
    db: Database, store: BlobStore, report: SweepReport, batch: Sequence[BlobEntry], *, older_than: datetime
) -> None:
    report.variants += len(batch)
    async with db.reader() as session:
        known = set(await session.scalars(select(Variant.key).where(Variant.key.in_([e.key for e in batch]))))
    for entry in batch:
        if entry.key in known or entry.modified >= older_than:
            continue
        report.variant_orphans.append(entry.key)
        if report.repair:
            await store.delete(entry.key)


# --- kept blobs past their retention ---------------------------------------------------------------------------


async def purge_kept(*, db: Database, store: BlobStore, older_than: datetime) -> list[str]:
    """Delete the kept (`preserveOnDisk`) blobs kept since before `older_than` that nothing refers to any more.
    Returns their content hashes. A kept blob in use again (the same bytes uploaded since) becomes an ordinary one."""
    async with db.reader() as session:
        query = select(Blob.content_hash).where(Blob.preserved, Blob.preserved_at < older_than)
        candidates = list(await session.scalars(query))
    purged = []
    for content_hash in candidates:
        async with db.writer() as session:
            await session.execute(
                update(Blob).where(Blob.content_hash == content_hash).values(preserved=False, preserved_at=None)
            )
            if await blobs.release_blob(session, store, content_hash):
                purged.append(content_hash)
    return purged


def _tick(progress: Progress | None, count: int = 1) -> None:
    if progress is not None:
        progress(count)


# --- the background task ---------------------------------------------------------------------------------------


@dataclass
class StoreSweeper:
    """Runs `sweep(repair=True)` at start-up and every `interval` seconds in each server process."""

    db: Database
    store: BlobStore
    tmp_dir: Path
    interval: float  # 0: off
    grace_seconds: float
    retention_days: int
    forget: Forget | None = None
    passes: int = 0  # finished passes, failed ones included (how tests follow the task)
    last: SweepReport | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    async def sweep_once(self) -> SweepReport:
        started = time.monotonic()
        report = await sweep(
            db=self.db,
            store=self.store,
            tmp_dir=self.tmp_dir,
            grace_seconds=self.grace_seconds,
            retention_days=self.retention_days,
            repair=True,
            forget=self.forget,
        )
        removed = report.temp_files + report.store_temp + len(report.orphans) + len(report.variant_orphans)
        if removed or report.missing or report.kept_purged or report.trash_emptied:
            log.warning(
                "store sweep (%.1f s): removed %d temp files, %d store temp files, %d orphan originals, %d orphan "
                "variants, %d kept blobs past retention, %d trashed images; %d recorded blobs are missing",
                time.monotonic() - started,
                report.temp_files,
                report.store_temp,
                len(report.orphans),
                len(report.variant_orphans),
                len(report.kept_purged),
                report.trash_emptied,
                len(report.missing),
            )
        self.last = report
        return report

    async def run(self) -> None:
        """Sweep now, then every `interval` seconds until `stop()`; a failed pass is logged and retried later."""
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception:
                log.exception("the store sweep failed; trying again in %s s", self.interval)
            self.passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
                return

    def stop(self) -> None:
        self._stopping.set()
