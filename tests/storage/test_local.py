"""What only `LocalBlobStore` promises: no temp files left behind, pruned folders, real paths."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from pinhole.errors import StorageError
from pinhole.storage import create_blob_store, files
from pinhole.storage.local import LocalBlobStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root: Path) -> LocalBlobStore:
    return LocalBlobStore(root)


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(files.TEMP_PREFIX)]


def test_creates_root(root: Path, store: LocalBlobStore) -> None:
    assert root.is_dir()
    assert store.root == root.resolve()


async def test_local_path_is_the_stored_file(store: LocalBlobStore) -> None:
    await store.put_bytes("a/b/c.webp", b"pixels")

    path = store.local_path("a/b/c.webp")

    assert path == store.root / "a/b/c.webp"
    assert path.read_bytes() == b"pixels"


async def test_source_that_cannot_be_read_leaves_no_temp_file(store: LocalBlobStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        await store.put_file("a/b", tmp_path)  # a directory: opening it for reading fails mid-write

    assert temp_files(store.root) == []
    assert await store.stat("a/b") is None


@pytest.mark.parametrize("move", [False, True])
async def test_missing_source_is_a_storage_error(store: LocalBlobStore, tmp_path: Path, move: bool) -> None:
    with pytest.raises(StorageError):
        await store.put_file("a/b", tmp_path / "missing", move=move)

    assert temp_files(store.root) == []


async def test_failed_rename_leaves_no_temp_file(store: LocalBlobStore) -> None:
    await store.put_bytes("dir/inner", b"x")

    with pytest.raises(StorageError):
        await store.put_bytes("dir", b"a directory is in the way")

    assert temp_files(store.root) == []


def test_exception_mid_write_leaves_no_temp_file_and_keeps_the_old_blob(root: Path) -> None:
    dest = root / "k"
    root.mkdir()
    dest.write_bytes(b"old")

    def fill(file: BinaryIO) -> None:
        file.write(b"half of it")
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        files.write_atomic(root, dest, fill)

    assert dest.read_bytes() == b"old"
    assert temp_files(root) == []


async def test_delete_prunes_empty_fan_out_folders(store: LocalBlobStore) -> None:
    await store.put_bytes("originals/ab/cd/one", b"1")
    await store.put_bytes("originals/ab/ef/two", b"2")

    await store.delete("originals/ab/cd/one")

    assert not (store.root / "originals/ab/cd").exists()
    assert (store.root / "originals/ab/ef/two").exists()
    await store.delete("originals/ab/ef/two")
    assert list(store.root.iterdir()) == []


async def test_list_keys_ignores_temp_and_foreign_files(store: LocalBlobStore) -> None:
    await store.put_bytes("a/blob", b"x")
    (store.root / "a" / f"{files.TEMP_PREFIX}leftover").write_bytes(b"partial")
    (store.root / "a" / "Foreign Name").write_bytes(b"?")

    assert [key async for key in store.list_keys()] == ["a/blob"]


async def test_health_check_fails_when_root_is_gone(root: Path, store: LocalBlobStore) -> None:
    root.rmdir()

    with pytest.raises(StorageError):
        await store.health_check()

    assert not root.exists()  # an unmounted volume must not be silently recreated


async def test_move_across_file_systems(store: LocalBlobStore) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == store.root.stat().st_dev:
        pytest.skip("needs /dev/shm on a different file system than the store")
    with tempfile.NamedTemporaryFile(dir=shm, delete=False) as source:
        source.write(b"far away")

    assert await store.put_file("far", Path(source.name), move=True) == 8

    assert await store.get_bytes("far") == b"far away"
    assert not os.path.exists(source.name)


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_written_blobs_are_readable_by_other_processes(store: LocalBlobStore, umask: None) -> None:
    await store.put_bytes("k", b"x")

    assert store.local_path("k").stat().st_mode & 0o777 == 0o644


def test_factory_builds_local(root: Path) -> None:
    assert isinstance(create_blob_store(backend="local", local_root=root), LocalBlobStore)


def test_factory_names_unknown_backend(root: Path) -> None:
    with pytest.raises(ValueError, match=r"'ftp'.*known: local"):
        create_blob_store(backend="ftp", local_root=root)
