"""Copy every blob the database knows from one `BlobStore` to another, and verify a copy (`pinhole migrate storage`).
What is copied, resuming, checks and retries: docs/deploy.md, "pinhole migrate storage"."""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from anyio import to_thread
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy import select

from pinhole.db.engine import Database
from pinhole.db.models import Blob, Variant
from pinhole.errors import BlobNotFound, StorageError
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)

DEFAULT_BACKOFF_SECONDS = 0.5
IN_MEMORY_MAX_BYTES = 8 * 1024 * 1024
"""Blobs up to this size are copied in memory; larger ones through a temp file."""
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BlobEntry:
    """One blob to copy: its key, expected size, and the hex SHA-256 prefix its bytes must start with."""

    key: str
    size: int
    sha256: str


class Outcome(enum.Enum):
    COPIED = "copied"
    SKIPPED = "skipped"  # already in the target with the expected size
    FAILED = "failed"


@dataclass
class Report:
    """What a copy or verification did; `failures` maps a key to why it failed."""

    total: int = 0
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


Progress = Callable[[BlobEntry, Outcome], None]


async def known_blobs(*, db: Database) -> list[BlobEntry]:
    """Every original and variant the database records, originals first, each in key order."""
    async with db.reader() as session:
        originals = (await session.execute(select(Blob.key, Blob.size, Blob.content_hash).order_by(Blob.key))).all()
        variants = (await session.execute(select(Variant.key, Variant.size, Variant.etag).order_by(Variant.key))).all()
    return [BlobEntry(key, size, digest) for key, size, digest in [*originals, *variants]]


def _mismatch(entry: BlobEntry, size: int, sha256: str) -> str | None:
    """Why a blob of `size` bytes hashing to `sha256` is not the one `entry` describes, or None."""
    if size != entry.size:
        return f"size {size}, expected {entry.size}"
    if not sha256.startswith(entry.sha256):
        return "content hash differs from the one recorded"
    return None


async def _hash_stream(store: BlobStore, key: str, sink: Callable[[bytes], object] | None = None) -> tuple[int, str]:
    """Size and SHA-256 of a stored blob, read in chunks (memory stays at one chunk); `sink` gets every chunk."""
    digest, size = hashlib.sha256(), 0
    async for chunk in store.stream(key, chunk_size=CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            await to_thread.run_sync(sink, chunk)
    return size, digest.hexdigest()


class _Permanent(Exception):
    """A failure that retrying cannot fix."""


@dataclass(frozen=True)
class _Copier:
    source: BlobStore
    target: BlobStore
    retries: int
    backoff: float
    rehash: bool
    in_memory_max: int
    spool_dir: Path | None

    async def copy(self, entry: BlobEntry) -> Outcome:
        for attempt in range(self.retries + 1):
            try:
                return await self._copy_once(entry)
            except StorageError as exc:
                if attempt == self.retries:
                    raise _Permanent(f"storage failed after {attempt + 1} attempt(s): {_cause(exc)}") from exc
                log.info("copy of %s failed (attempt %d), retrying: %s", entry.key, attempt + 1, _cause(exc))
                await anyio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def _copy_once(self, entry: BlobEntry) -> Outcome:
        if await self._already_there(entry):
            return Outcome.SKIPPED
        try:
            if entry.size <= self.in_memory_max:
                await self._copy_in_memory(entry)
            else:
                await self._copy_spooled(entry)
        except BlobNotFound:
            raise _Permanent("missing from the source store") from None
        return Outcome.COPIED

    async def _already_there(self, entry: BlobEntry) -> bool:
        if await self.target.stat(entry.key) != entry.size:
            return False
        if not self.rehash:
            return True
        try:
            return _mismatch(entry, *await _hash_stream(self.target, entry.key)) is None
        except BlobNotFound:
            return False

    async def _copy_in_memory(self, entry: BlobEntry) -> None:
        data = await self.source.get_bytes(entry.key)
        self._check_source(entry, len(data), hashlib.sha256(data).hexdigest())
        await self.target.put_bytes(entry.key, data)

    async def _copy_spooled(self, entry: BlobEntry) -> None:
        """Large blobs go through a temp file, so memory stays bounded (and S3 targets upload in parts)."""
        fd, name = await to_thread.run_sync(partial(tempfile.mkstemp, prefix=".migrate-", dir=self.spool_dir))
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as file:
                size, sha256 = await _hash_stream(self.source, entry.key, file.write)
            self._check_source(entry, size, sha256)
            await self.target.put_file(entry.key, path, move=True)
        finally:
            await to_thread.run_sync(partial(path.unlink, missing_ok=True))

    @staticmethod
    def _check_source(entry: BlobEntry, size: int, sha256: str) -> None:
        problem = _mismatch(entry, size, sha256)
        if problem is not None:
            raise _Permanent(f"source blob is damaged: {problem}")


def _cause(exc: BaseException) -> str:
    """The underlying error's text: `StorageError` messages are generic on purpose, an operator needs the cause."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}"


async def _run_pool(
    entries: Iterable[BlobEntry], concurrency: int, work: Callable[[BlobEntry], Awaitable[None]]
) -> None:
    """Run `work` on every entry, at most `concurrency` at a time."""
    send, receive = anyio.create_memory_object_stream[BlobEntry](concurrency)

    async def worker(inbox: MemoryObjectReceiveStream[BlobEntry]) -> None:
        async with inbox:
            async for entry in inbox:
                await work(entry)

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker, receive.clone())
        receive.close()
        async with send:
            for entry in entries:
                await send.send(entry)


async def copy_blobs(
    *,
    entries: list[BlobEntry],
    source: BlobStore,
    target: BlobStore,
    concurrency: int = 8,
    retries: int = 3,
    backoff: float = DEFAULT_BACKOFF_SECONDS,
    rehash: bool = False,
    in_memory_max: int = IN_MEMORY_MAX_BYTES,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """Copy `entries` from `source` to `target`; never raises for one blob, the report lists the failures.

    A blob already in the target with the expected size is skipped; with `rehash` its content hash must match too
    (it is read back), so damaged copies found by `verify_blobs` are replaced. Blobs larger than `in_memory_max`
    are copied through a temp file in `spool_dir` (default: the system's temp folder).
    """
    report = Report(total=len(entries))
    copier = _Copier(source, target, retries, backoff, rehash, in_memory_max, spool_dir)

    async def work(entry: BlobEntry) -> None:
        try:
            outcome = await copier.copy(entry)
        except _Permanent as exc:
            report.failures[entry.key] = str(exc)
            outcome = Outcome.FAILED
        if outcome is Outcome.COPIED:
            report.copied += 1
            report.bytes_copied += entry.size
        elif outcome is Outcome.SKIPPED:
            report.skipped += 1
        if progress is not None:
            progress(entry, outcome)

    await _run_pool(entries, concurrency, work)
    return report


async def _verify_one(entry: BlobEntry, target: BlobStore, retries: int, backoff: float) -> str | None:
    for attempt in range(retries + 1):
        try:
            return _mismatch(entry, *await _hash_stream(target, entry.key))
        except BlobNotFound:
            return "missing from the target store"
        except StorageError as exc:
            if attempt == retries:
                return f"could not be read after {attempt + 1} attempt(s): {_cause(exc)}"
            await anyio.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


async def verify_blobs(
    *,
    entries: list[BlobEntry],
    target: BlobStore,
    concurrency: int = 8,
    retries: int = 3,
    backoff: float = DEFAULT_BACKOFF_SECONDS,
    progress: Progress | None = None,
) -> Report:
    """Read every entry back from `target` and check its size and content hash."""
    report = Report(total=len(entries))

    async def work(entry: BlobEntry) -> None:
        problem = await _verify_one(entry, target, retries, backoff)
        if problem is not None:
            report.failures[entry.key] = problem
        if progress is not None:
            progress(entry, Outcome.FAILED if problem else Outcome.SKIPPED)

    await _run_pool(entries, concurrency, work)
    return report
