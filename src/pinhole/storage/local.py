"""`LocalBlobStore`: blobs as files under one root folder, written atomically (temp file, then rename)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from pinhole.errors import BlobNotFound, StorageError
from pinhole.storage import files
from pinhole.storage.base import BlobEntry, write_read_delete_probe
from pinhole.storage.keys import is_valid_key, validate_key, validate_prefix

log = logging.getLogger(__name__)

_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalBlobStore:
    """A `BlobStore` on a local (or mounted) folder; blocking file I/O runs in worker threads."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> int:
        write = files.move_atomic if move else files.copy_atomic
        with _storage_errors("put_file", key):
            return await to_thread.run_sync(write, self.root, self._path(key), path)

    async def put_bytes(self, key: str, data: bytes) -> None:
        with _storage_errors("put_bytes", key):
            await to_thread.run_sync(files.write_atomic, self.root, self._path(key), partial(_fill, data))

    async def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        with _storage_errors("get_bytes", key):
            try:
                return await to_thread.run_sync(path.read_bytes)
            except _MISSING:
                raise BlobNotFound("The requested file does not exist.") from None

    def stream(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start) or chunk_size < 1:
            raise ValueError(f"invalid range start={start} end={end} chunk_size={chunk_size}")
        return self._stream(key, self._path(key), start, end, chunk_size)

    async def stat(self, key: str) -> int | None:
        with _storage_errors("stat", key):
            return await to_thread.run_sync(files.read_size, self._path(key))

    async def delete(self, key: str) -> None:
        with _storage_errors("delete", key):
            await to_thread.run_sync(files.remove, self.root, self._path(key))

    async def list_keys(self, prefix: str = "") -> AsyncIterator[str]:
        validate_prefix(prefix)
        async for key in self._walk(prefix.rpartition("/")[0], prefix):
            yield key

    async def list_entries(self, prefix: str = "") -> AsyncIterator[BlobEntry]:
        async for key in self.list_keys(prefix):
            with _storage_errors("list_entries", key):
                found = await to_thread.run_sync(files.size_and_mtime, self._path(key))
            if found is not None:  # deleted since it was listed
                size, mtime = found
                yield BlobEntry(key=key, size=size, modified=datetime.fromtimestamp(mtime, UTC))

    async def remove_stale_temp(self, older_than: datetime, *, remove: bool = True) -> int:
        with _storage_errors("remove_stale_temp", ""):
            return await to_thread.run_sync(files.remove_stale_temp, self.root, older_than.timestamp(), remove)

    async def health_check(self) -> None:
        await write_read_delete_probe(self)

    def local_path(self, key: str) -> Path:
        return self._path(key)

    async def aclose(self) -> None:
        return None

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    async def _stream(self, key: str, path: Path, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
        with _storage_errors("stream", key):
            try:
                file = await to_thread.run_sync(path.open, "rb")
            except _MISSING:
                raise BlobNotFound("The requested file does not exist.") from None
            # Closed synchronously: awaiting in `finally` fails once the task is cancelled.
            with file:
                async for chunk in _read_range(file, start, end, chunk_size):
                    yield chunk

    async def _walk(self, directory: str, prefix: str) -> AsyncIterator[str]:
        entries = await to_thread.run_sync(files.list_dir, self.root / directory)
        for name, is_dir in entries:
            key = f"{directory}/{name}" if directory else name
            if not is_valid_key(key):
                continue  # temp files and foreign names are not blobs
            if not is_dir and key.startswith(prefix):
                yield key
            elif is_dir and (prefix.startswith(key + "/") or (key + "/").startswith(prefix)):
                async for found in self._walk(key, prefix):
                    yield found


async def _read_range(file: BinaryIO, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
    await to_thread.run_sync(file.seek, start)
    remaining = None if end is None else end - start
    while remaining is None or remaining > 0:
        size = chunk_size if remaining is None else min(chunk_size, remaining)
        chunk = await to_thread.run_sync(file.read, size)
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _fill(data: bytes, file: BinaryIO) -> None:
    file.write(data)


@contextmanager
def _storage_errors(operation: str, key: str) -> Iterator[None]:
    """Turn an OS error into a generic `StorageError`; the cause goes to the log, not to the client."""
    try:
        yield
    except OSError as exc:
        log.warning("local blob store: %s %s failed: %s", operation, key, exc)
        raise StorageError("The image storage is unavailable.") from exc
