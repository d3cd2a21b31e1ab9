"""`copy_blobs` / `verify_blobs` between two local stores, one of them failing on purpose: retries with back-off,
permanent failures reported (not retried, not written), the concurrency bound."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import TypedDict

import anyio
import pytest

from pinhole.errors import StorageError
from pinhole.services.blob_copy import BlobEntry, copy_blobs, verify_blobs
from pinhole.storage.keys import original_key, variant_key
from pinhole.storage.local import LocalBlobStore

pytestmark = pytest.mark.anyio


class FlakyStore(LocalBlobStore):
    """A local store whose writes fail `failures` times per key first, and which records how many overlap."""

    def __init__(self, root: Path, failures: int = 0) -> None:
        super().__init__(root)
        self.failures = failures
        self.attempts: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0

    async def put_bytes(self, key: str, data: bytes) -> None:
        await self._attempt(key)
        await super().put_bytes(key, data)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> int:
        await self._attempt(key)
        return await super().put_file(key, path, move=move)

    async def _attempt(self, key: str) -> None:
        self.attempts[key] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await anyio.sleep(0)  # let the other workers in
            if self.attempts[key] <= self.failures:
                raise StorageError("The image storage is unavailable.") from OSError("disk on fire")
        finally:
            self.in_flight -= 1


async def blobs(store: LocalBlobStore, count: int) -> list[BlobEntry]:
    entries = []
    for n in range(count):
        data = f"blob number {n}".encode()
        digest = hashlib.sha256(data).hexdigest()
        key = original_key(digest) if n % 2 else variant_key(digest, f"w={n}", "png")
        await store.put_bytes(key, data)
        entries.append(BlobEntry(key, len(data), digest if n % 2 else digest[:32]))
    return entries


class Tuning(TypedDict, total=False):
    """`copy_blobs` keyword arguments a test varies."""

    in_memory_max: int


SPOOLED: Tuning = {"in_memory_max": 4}  # every test blob is larger: copied through a temp file


@pytest.mark.parametrize("how", [{}, SPOOLED], ids=["in-memory", "spooled"])
async def test_transient_failures_are_retried(tmp_path: Path, how: Tuning) -> None:
    source = LocalBlobStore(tmp_path / "a")
    target = FlakyStore(tmp_path / "b", failures=2)
    entries = await blobs(source, 4)
    spool = tmp_path / "spool"
    spool.mkdir()
    report = await copy_blobs(
        entries=entries, source=source, target=target, retries=2, backoff=0, spool_dir=spool, **how
    )
    assert report.failures == {}
    assert list(spool.iterdir()) == []
    assert (report.copied, report.skipped) == (4, 0)
    assert set(target.attempts.values()) == {3}
    assert (await verify_blobs(entries=entries, target=target)).ok


async def test_a_blob_is_given_up_after_its_retries(tmp_path: Path) -> None:
    source = LocalBlobStore(tmp_path / "a")
    target = FlakyStore(tmp_path / "b", failures=5)
    [entry] = await blobs(source, 1)
    report = await copy_blobs(entries=[entry], source=source, target=target, retries=2, backoff=0)
    assert report.failures == {entry.key: "storage failed after 3 attempt(s): OSError: disk on fire"}
    assert target.attempts[entry.key] == 3


@pytest.mark.parametrize("how", [{}, SPOOLED], ids=["in-memory", "spooled"])
async def test_missing_or_damaged_source_blobs_are_reported_not_copied(tmp_path: Path, how: Tuning) -> None:
    source = LocalBlobStore(tmp_path / "a")
    target = FlakyStore(tmp_path / "b")
    missing, damaged, fine = await blobs(source, 3)
    await source.delete(missing.key)
    await source.put_bytes(damaged.key, b"x" * damaged.size)
    report = await copy_blobs(
        entries=[missing, damaged, fine], source=source, target=target, retries=3, backoff=0, **how
    )
    assert report.failures == {
        missing.key: "missing from the source store",
        damaged.key: "source blob is damaged: content hash differs from the one recorded",
    }
    assert report.copied == 1
    assert dict(target.attempts) == {fine.key: 1}


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_concurrency_is_bounded(tmp_path: Path, concurrency: int) -> None:
    source = LocalBlobStore(tmp_path / "a")
    target = FlakyStore(tmp_path / "b")
    entries = await blobs(source, 12)
    report = await copy_blobs(entries=entries, source=source, target=target, concurrency=concurrency)
    assert report.copied == 12
    assert 1 <= target.most_in_flight <= concurrency
