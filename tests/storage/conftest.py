"""Every backend the contract suite runs against; an S3 store joins by adding one entry to `BUILDERS`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pinhole.storage import BlobStore, create_blob_store


def _local(tmp_path: Path) -> BlobStore:
    return create_blob_store(backend="local", local_root=tmp_path / "blobs")


BUILDERS: dict[str, Callable[[Path], BlobStore]] = {"local": _local}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(BUILDERS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    blob_store = BUILDERS[request.param](tmp_path)
    yield blob_store
    await blob_store.aclose()
