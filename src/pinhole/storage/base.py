"""The `BlobStore` protocol that every storage backend implements and the contract suite checks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from pinhole.errors import BlobNotFound, StorageError


class BlobStore(Protocol):
    """Bytes addressed by keys made in `pinhole.storage.keys`; every method validates its key.

    I/O failures raise `StorageError` (generic public message, cause chained); a missing blob
    raises `BlobNotFound`; a malformed key or range raises `ValueError` (a bug, not a client error).
    """

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> int:
        """Store the file at `path` atomically and return its size; `move=True` consumes the source."""
        ...

    async def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` atomically: readers see the old blob or the new one, never a torn one."""
        ...

    async def get_bytes(self, key: str) -> bytes:
        """Return the whole blob; raises `BlobNotFound`."""
        ...

    def stream(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncIterator[bytes]:
        """Yield bytes `[start, end)` (end exclusive, like a slice; None means to the end).

        A range past the end is clipped (possibly to nothing). Key and range are checked on the call;
        `BlobNotFound` is raised on the first iteration.
        """
        ...

    async def stat(self, key: str) -> int | None:
        """Return the blob's size, or None when there is no such blob."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...

    def list_keys(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield every key starting with `prefix`, in lexicographic order."""
        ...

    async def health_check(self) -> None:
        """Write, read back and delete a probe blob; raises `StorageError` when any step fails."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where the blob lives on local disk (for sendfile), or None for remote stores. No I/O."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources."""
        ...


@runtime_checkable
class PresignedUrls(Protocol):
    """A store whose blobs can be fetched straight from the storage service through a signed, expiring URL."""

    async def presigned_url(
        self, key: str, expires: int, *, content_type: str | None = None, cache_control: str | None = None
    ) -> str:
        """A URL that lets anyone holding it GET the blob for `expires` seconds; the service answers with
        `content_type` and `cache_control` when given. Raises `StorageError` when it cannot be signed."""
        ...


@dataclass(frozen=True)
class BlobEntry:
    """A stored blob as a listing sees it: its key, size and when it was last written (UTC)."""

    key: str
    size: int
    modified: datetime


@runtime_checkable
class Inventory(Protocol):
    """A store that can be reconciled with the database (`pinhole.services.store_sweep`)."""

    def list_entries(self, prefix: str = "") -> AsyncIterator[BlobEntry]:
        """`list_keys` with each blob's size and modification time, in the same (lexicographic) order."""
        ...

    async def remove_stale_temp(self, older_than: datetime, *, remove: bool = True) -> int:
        """Remove what interrupted writes left behind (temp files, unfinished multipart uploads) before
        `older_than`; return how many. With `remove=False` only count them (a check that changes nothing)."""
        ...


async def write_read_delete_probe(store: BlobStore) -> None:
    """The `health_check` of a store: write, read back and delete a random probe blob."""
    key, probe = f"health/probe-{secrets.token_hex(8)}", secrets.token_bytes(32)
    try:
        await store.put_bytes(key, probe)
        if await store.get_bytes(key) != probe:
            raise StorageError("The storage returned different bytes than were written.")
    except BlobNotFound as exc:
        raise StorageError("The storage lost a file it had just written.") from exc
    finally:
        await store.delete(key)
