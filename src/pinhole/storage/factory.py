"""Build the configured `BlobStore`; adding a backend is one entry in `_BUILDERS`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pinhole.settings import S3Settings
from pinhole.storage.base import BlobStore
from pinhole.storage.local import LocalBlobStore


def _s3(*, local_root: Path, s3: S3Settings | None) -> BlobStore:
    if s3 is None:
        raise ValueError("the s3 blob store needs its settings (storage.s3)")
    from pinhole.storage.s3 import S3BlobStore  # boto3 takes a while to import: only when S3 is used

    return S3BlobStore(s3)


_BUILDERS: dict[str, Callable[..., BlobStore]] = {
    "local": lambda *, local_root, s3: LocalBlobStore(local_root),
    "s3": _s3,
}


def create_blob_store(*, backend: str, local_root: Path, s3: S3Settings | None = None) -> BlobStore:
    """Return a store for `backend`; an unknown name raises ValueError naming it and the known ones."""
    build = _BUILDERS.get(backend)
    if build is None:
        known = ", ".join(sorted(_BUILDERS))
        raise ValueError(f"unknown blob store backend {backend!r} (known: {known})")
    return build(local_root=local_root, s3=s3)
