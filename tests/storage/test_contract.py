"""The behaviour every `BlobStore` backend promises, run against each backend in `conftest.BUILDERS`."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from pinhole.errors import BlobNotFound
from pinhole.storage import BlobStore, original_key, variant_key
from pinhole.storage.partial import PartialUploads

pytestmark = pytest.mark.anyio

KEY = original_key(hashlib.sha256(b"contract").hexdigest())
DATA = bytes(range(256)) * 1000  # 256,000 bytes, every offset distinguishable within a 256-byte window


async def collect(store: BlobStore, key: str, **window: int) -> bytes:
    return b"".join([chunk async for chunk in store.stream(key, **window)])


async def keys_of(store: BlobStore, prefix: str = "") -> list[str]:
    return [key async for key in store.list_keys(prefix)]


async def test_put_then_get_stat_and_delete(store: BlobStore) -> None:
    await store.put_bytes(KEY, DATA)

    assert await store.get_bytes(KEY) == DATA
    assert await store.stat(KEY) == len(DATA)
    await store.delete(KEY)
    assert await store.stat(KEY) is None


async def test_empty_blob_is_stored(store: BlobStore) -> None:
    await store.put_bytes(KEY, b"")

    assert await store.get_bytes(KEY) == b""
    assert await store.stat(KEY) == 0


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put_bytes(KEY, DATA)

    await store.delete(KEY)
    await store.delete(KEY)
    await store.delete("never/written")

    assert await store.stat(KEY) is None


async def test_put_overwrites(store: BlobStore) -> None:
    await store.put_bytes(KEY, DATA)
    await store.put_bytes(KEY, b"second")

    assert await store.get_bytes(KEY) == b"second"
    assert await store.stat(KEY) == 6


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({}, DATA),
        ({"start": 1000}, DATA[1000:]),
        ({"end": 1000}, DATA[:1000]),
        ({"start": 70_000, "end": 200_001}, DATA[70_000:200_001]),
        ({"start": 5, "end": 5}, b""),
        ({"start": 250_000, "end": 999_999}, DATA[250_000:]),
        ({"start": 999_999}, b""),
        ({"start": 10, "end": 300, "chunk_size": 7}, DATA[10:300]),
    ],
)
async def test_stream_range(store: BlobStore, window: dict[str, int], expected: bytes) -> None:
    await store.put_bytes(KEY, DATA)

    assert await collect(store, KEY, **window) == expected


async def test_stream_respects_chunk_size(store: BlobStore) -> None:
    await store.put_bytes(KEY, DATA)

    sizes = [len(chunk) async for chunk in store.stream(KEY, chunk_size=100_000)]

    assert max(sizes) <= 100_000
    assert sum(sizes) == len(DATA)


@pytest.mark.parametrize("window", [{"start": -1}, {"start": 10, "end": 9}, {"chunk_size": 0}])
async def test_stream_refuses_bad_range(store: BlobStore, window: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="range"):
        store.stream(KEY, **window)


async def test_missing_blob(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await store.get_bytes(KEY)
    with pytest.raises(BlobNotFound):
        await collect(store, KEY)
    assert await store.stat(KEY) is None


async def test_list_keys_by_prefix_in_order(store: BlobStore) -> None:
    digests = sorted(hashlib.sha256(bytes([n])).hexdigest() for n in range(5))
    originals = [original_key(digest) for digest in digests]
    variants = [variant_key(digests[0], f"w={n}", "webp") for n in range(3)]
    for key in originals + variants:
        await store.put_bytes(key, key.encode())

    assert await keys_of(store) == sorted(originals + variants)
    assert await keys_of(store, "originals/") == sorted(originals)
    assert await keys_of(store, f"originals/{digests[0][:1]}") == [
        key for key in sorted(originals) if key.startswith(f"originals/{digests[0][:1]}")
    ]
    assert await keys_of(store, f"variants/{digests[0][:2]}/") == sorted(variants)
    assert await keys_of(store, "nothing/") == []


async def test_list_keys_orders_like_bytes(store: BlobStore) -> None:
    keys = ["a/b", "a-b", "a.b", "a/a/c", "ab", "a0"]
    for key in keys:
        await store.put_bytes(key, b"x")

    assert await keys_of(store) == sorted(keys)


async def test_list_keys_skips_deleted(store: BlobStore) -> None:
    await store.put_bytes("one/a", b"1")
    await store.put_bytes("two/b", b"2")
    await store.delete("one/a")

    assert await keys_of(store) == ["two/b"]


@pytest.mark.parametrize("move", [False, True])
async def test_put_file(store: BlobStore, tmp_path: Path, move: bool) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(DATA)

    size = await store.put_file(KEY, source, move=move)

    assert size == len(DATA)
    assert await store.get_bytes(KEY) == DATA
    assert source.exists() is not move


async def test_put_file_overwrites(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(b"new")
    await store.put_bytes(KEY, DATA)

    assert await store.put_file(KEY, source, move=True) == 3
    assert await store.get_bytes(KEY) == b"new"


async def test_health_check_passes_and_leaves_nothing(store: BlobStore) -> None:
    await store.health_check()

    assert await keys_of(store) == []


BAD_KEYS = [
    "",
    "/abs",
    "../up",
    "a/../b",
    "a/./b",
    "a//b",
    "a/",
    "Upper",
    "sp ace",
    "a\\b",
    "é",
    "~tmp",
    "x" * 600,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_refuses_invalid_keys(store: BlobStore, tmp_path: Path, key: str) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_file(key, source),
        lambda: store.get_bytes(key),
        lambda: store.stat(key),
        lambda: store.delete(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="invalid blob key"):
            await call()
    with pytest.raises(ValueError, match="invalid blob key"):
        store.stream(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        store.local_path(key)


@pytest.mark.parametrize("prefix", ["/", "/originals", "../", "a//", "UP/"])
async def test_refuses_invalid_prefixes(store: BlobStore, prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key prefix"):
        await keys_of(store, prefix)


async def test_concurrent_writers_never_tear_a_blob(store: BlobStore) -> None:
    payloads = [bytes([n]) * 300_000 for n in range(12)]
    seen: list[bytes] = []

    async def read_repeatedly() -> None:
        for _ in range(20):
            if await store.stat(KEY) is not None:
                seen.append(await store.get_bytes(KEY))
            await anyio.sleep(0)

    async with anyio.create_task_group() as group:
        for payload in payloads:
            group.start_soon(store.put_bytes, KEY, payload)
        group.start_soon(read_repeatedly)

    assert await store.get_bytes(KEY) in payloads
    assert all(blob in payloads for blob in seen)
    assert await keys_of(store) == [KEY]


@pytest.mark.parametrize("round_", range(5))
async def test_writes_succeed_while_neighbours_are_deleted(store: BlobStore, round_: int) -> None:
    # A local delete prunes fan-out folders it empties; a writer into that folder must not fail.
    keys = [f"shared/dir/k{n}" for n in range(20)]

    async with anyio.create_task_group() as group:
        for key in keys:
            group.start_soon(store.put_bytes, key, b"v")
            group.start_soon(store.delete, key)

    for key in keys:
        assert await store.stat(key) in {None, 1}


async def test_partial_upload_pieces_are_put_together_in_order(store: BlobStore, tmp_path: Path) -> None:
    """Resumable uploads keep each received piece as a blob (no store can append) and join them at the end."""
    pieces = PartialUploads(store)
    upload_id, other = "a" * 32, "b" * 32
    names = []
    for offset in (0, 1000, 70_000):  # offsets past 9, 99... sort as numbers: the names are zero-padded
        source = tmp_path / f"piece-{offset}"
        source.write_bytes(DATA[offset : {0: 1000, 1000: 70_000, 70_000: None}[offset]])
        names.append(await pieces.add_piece(upload_id, offset, source))
        assert not source.exists()  # consumed
    (tmp_path / "x").write_bytes(b"another upload")
    await pieces.add_piece(other, 0, tmp_path / "x")
    assert [key.rpartition("/")[2] async for key in store.list_keys(f"partial/{upload_id}/")] == names

    whole = await pieces.assemble(upload_id, names, tmp_path / "whole")
    assert (tmp_path / "whole").read_bytes() == DATA
    assert (whole.size, whole.sha256) == (len(DATA), hashlib.sha256(DATA).hexdigest())
    assert [found async for found in pieces.upload_ids()] == [upload_id, other]

    await pieces.drop_piece(upload_id, names[1])
    assert await pieces.discard(upload_id) == 2
    assert await keys_of(store, "partial/") == [key async for key in store.list_keys(f"partial/{other}/")]
    assert await pieces.discard(other) == 1
    assert await keys_of(store, "partial/") == []
