"""Build the configured `BlobStore`; adding a backend is one entry in `_BUILDERS`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pinhole.storage.base import BlobStore
from pinhole.storage.local import LocalBlobStore

_BUILDERS: dict[str, Callable[..., BlobStore]] = {
    "local": lambda *, local_root: LocalBlobStore(local_root),
}


def create_blob_store(*, backend: str, local_root: Path) -> BlobStore:
    """Return a store for `backend`; an unknown name raises ValueError naming it and the known ones."""
    build = _BUILDERS.get(backend)
    if build is None:
        known = ", ".join(sorted(_BUILDERS))
        raise ValueError(f"unknown blob store backend {backend!r} (known: {known})")
    return build(local_root=local_root)
