"""Every backend the contract suite runs against: the local folder, and S3 on a real server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pinhole.storage import BlobStore, create_blob_store
from tests.support.s3server import S3Server  # its session fixture `s3_server` comes from tests/conftest.py


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return create_blob_store(backend="local", local_root=tmp_path / "blobs")


def _s3(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A fresh bucket per test, and a key prefix, so that listings prove the prefix is honoured."""
    server: S3Server = request.getfixturevalue("s3_server")
    settings = server.settings(server.new_bucket(), prefix="tenant/pinhole/")
    return create_blob_store(backend="s3", local_root=tmp_path / "unused", s3=settings)


BUILDERS: dict[str, Callable[[pytest.FixtureRequest, Path], BlobStore]] = {"local": _local, "s3": _s3}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(BUILDERS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    blob_store = BUILDERS[request.param](request, tmp_path)
    yield blob_store
    await blob_store.aclose()
