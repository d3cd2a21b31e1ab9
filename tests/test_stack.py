"""The stack the suite runs on is the one `PINHOLE_TEST_STACK` names (tests/conftest.py): a run meant for
PostgreSQL + S3 that quietly fell back to SQLite and local files would prove nothing."""

from __future__ import annotations

import pytest

from pinhole.observability.storage import unwrap_store
from pinhole.runtime import Runtime
from pinhole.storage.local import LocalBlobStore
from pinhole.storage.s3 import S3BlobStore
from tests.api.v2helpers import stored_files
from tests.conftest import STACK

pytestmark = pytest.mark.anyio


async def test_apps_run_on_the_named_stack(runtime: Runtime) -> None:
    if STACK == "scaled":
        assert isinstance(unwrap_store(runtime.store), S3BlobStore)  # under the metrics wrapper
        assert not runtime.settings.is_sqlite
    else:
        assert isinstance(unwrap_store(runtime.store), LocalBlobStore)
        if STACK == "embedded":
            assert runtime.settings.is_sqlite


async def test_stored_files_sees_the_store(runtime: Runtime) -> None:
    await runtime.store.put_bytes("originals/ab/abc", b"x")
    assert [path.relative_to(runtime.settings.blob_root).as_posix() for path in stored_files(runtime.settings)] == [
        "originals/ab/abc"
    ]
