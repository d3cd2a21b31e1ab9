"""Copy every blob the database knows from one `BlobStore` to another, and verify a copy (`pinhole migrate storage`).

Keys come from the database (`blobs` and `variants`), not from listing the source store: only blobs pinhole uses
are copied (no temp files, health probes or foreign objects), and each comes with the size and hash to check it by.
Originals are named by their SHA-256 content hash; a variant's `etag` is the start of the SHA-256 of its bytes.

A key whose target already holds a blob of the expected size is skipped, so a rerun resumes an interrupted copy
(with `rehash`, its content must match too, so a rerun also replaces damaged copies).
Bytes read from the source are checked (size, and hash) before they are written, so a damaged source blob is
reported, not spread. Transient storage failures are retried with exponential back-off; a blob missing from the
source is not retried.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy import select

from pinhole.db.engine import Database
from pinhole.db.models import Blob, Variant
from pinhole.errors import BlobNotFound, StorageError
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)

DEFAULT_BACKOFF_SECONDS = 0.5


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


def _check(entry: BlobEntry, data: bytes) -> str | None:
    """Why `data` is not the blob `entry` describes, or None."""
    if len(data) != entry.size:
        return f"size {len(data)}, expected {entry.size}"
    if not hashlib.sha256(data).hexdigest().startswith(entry.sha256):
        return "content hash differs from the one recorded"
    return None


class _Permanent(Exception):
    """A failure that retrying cannot fix."""


async def _already_there(entry: BlobEntry, target: BlobStore, rehash: bool) -> bool:
    if await target.stat(entry.key) != entry.size:
        return False
    if not rehash:
        return True
    try:
        return _check(entry, await target.get_bytes(entry.key)) is None
    except BlobNotFound:
        return False


async def _copy_one(entry: BlobEntry, source: BlobStore, target: BlobStore, rehash: bool) -> Outcome:
    if await _already_there(entry, target, rehash):
        return Outcome.SKIPPED
    try:
        data = await source.get_bytes(entry.key)
    except BlobNotFound:
        raise _Permanent("missing from the source store") from None
    problem = _check(entry, data)
    if problem is not None:
        raise _Permanent(f"source blob is damaged: {problem}")
    await target.put_bytes(entry.key, data)
    return Outcome.COPIED


async def _with_retries(
    entry: BlobEntry, source: BlobStore, target: BlobStore, retries: int, backoff: float, rehash: bool
) -> Outcome:
    for attempt in range(retries + 1):
        try:
            return await _copy_one(entry, source, target, rehash)
        except StorageError as exc:
            if attempt == retries:
                raise _Permanent(f"storage failed after {retries + 1} attempt(s): {_cause(exc)}") from exc
            log.info("copy of %s failed (attempt %d), retrying: %s", entry.key, attempt + 1, _cause(exc))
            await anyio.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


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
    progress: Progress | None = None,
) -> Report:
    """Copy `entries` from `source` to `target`; never raises for one blob, the report lists the failures.

    A blob already in the target with the expected size is skipped; with `rehash` its content hash must match too
    (it is read back), so damaged copies found by `verify_blobs` are replaced.
    """
    report = Report(total=len(entries))

    async def work(entry: BlobEntry) -> None:
        try:
            outcome = await _with_retries(entry, source, target, retries, backoff, rehash)
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
            data = await target.get_bytes(entry.key)
        except BlobNotFound:
            return "missing from the target store"
        except StorageError as exc:
            if attempt == retries:
                return f"could not be read after {retries + 1} attempt(s): {_cause(exc)}"
            await anyio.sleep(backoff * 2**attempt)
            continue
        return _check(entry, data)
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
