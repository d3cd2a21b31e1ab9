"""A `BlobStore` that counts each operation and its failures by backend, and traces it when tracing is on.

`observed_store(store, ...)` wraps the configured store in the composition root; `inner` is the store itself.
A missing blob (`BlobNotFound`) is an answer, not a failure: only other errors count as errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pinhole.errors import BlobNotFound
from pinhole.observability.metrics import Tally
from pinhole.observability.tracing import span
from pinhole.storage.base import BlobStore, PresignedUrls

T = TypeVar("T")
OPERATIONS = "pinhole_blob_store_operations_total"
ERRORS = "pinhole_blob_store_errors_total"


class ObservedStore:
    def __init__(self, inner: BlobStore, *, backend: str, tally: Tally) -> None:
        self.inner = inner
        self.backend = backend
        self._tally = tally

    async def _run(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        labels = (self.backend, operation)
        self._tally.count(OPERATIONS, labels)
        with span(f"blob {operation}", **{"pinhole.blob_store": self.backend}):
            try:
                return await call()
            except BlobNotFound:
                raise
            except Exception:
                self._tally.count(ERRORS, labels)
                raise

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> int:
        return await self._run("put", lambda: self.inner.put_file(key, path, move=move))

    async def put_bytes(self, key: str, data: bytes) -> None:
        await self._run("put", lambda: self.inner.put_bytes(key, data))

    async def get_bytes(self, key: str) -> bytes:
        return await self._run("get", lambda: self.inner.get_bytes(key))

    def stream(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncIterator[bytes]:
        chunks = self.inner.stream(key, start=start, end=end, chunk_size=chunk_size)
        return self._streamed(chunks)

    async def _streamed(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        labels = (self.backend, "stream")
        self._tally.count(OPERATIONS, labels)
        try:
            async for chunk in chunks:
                yield chunk
        except BlobNotFound:
            raise
        except Exception:
            self._tally.count(ERRORS, labels)
            raise

    async def stat(self, key: str) -> int | None:
        return await self._run("stat", lambda: self.inner.stat(key))

    async def delete(self, key: str) -> None:
        await self._run("delete", lambda: self.inner.delete(key))

    def list_keys(self, prefix: str = "") -> AsyncIterator[str]:
        return self.inner.list_keys(prefix)

    async def health_check(self) -> None:
        await self._run("health_check", self.inner.health_check)

    def local_path(self, key: str) -> Path | None:
        return self.inner.local_path(key)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ObservedPresigningStore(ObservedStore):
    """The same, for stores that hand out presigned URLs (kept a `PresignedUrls` so delivery still redirects)."""

    async def presigned_url(
        self, key: str, expires: int, *, content_type: str | None = None, cache_control: str | None = None
    ) -> str:
        inner = self.inner
        assert isinstance(inner, PresignedUrls)
        return await self._run(
            "presign", lambda: inner.presigned_url(key, expires, content_type=content_type, cache_control=cache_control)
        )


def observed_store(store: BlobStore, *, backend: str, tally: Tally) -> ObservedStore:
    kind = ObservedPresigningStore if isinstance(store, PresignedUrls) else ObservedStore
    return kind(store, backend=backend, tally=tally)


def unwrap_store(store: BlobStore) -> BlobStore:
    """The configured store under the observing wrapper (for code that needs the backend itself)."""
    return store.inner if isinstance(store, ObservedStore) else store
