"""Two apps on one database and blob store without Redis: one deletes an image while the other still holds its
record in memory (for up to `delivery.metadata_cache_seconds`). The other must answer as for a missing image,
never with a 500 or a response cut off halfway (the blob is opened before any header goes out)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pinhole.app import create_app
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    shared = {
        "data_dir": settings.data_dir.parent / "second",  # its own temp files; the same database and blobs
        "database": settings.database.model_copy(update={"url": settings.database_url}),
        "storage": settings.storage.model_copy(update={"local_root": settings.blob_root}),
    }
    other = create_app(settings.model_copy(update=shared))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.mark.parametrize("settings_overrides", [{"redis": {"url": None}, "delivery": {"metadata_cache_seconds": 3600}}])
async def test_a_record_held_by_another_app_serves_as_missing(
    http: httpx.AsyncClient, second: httpx.AsyncClient, tenant: ApiClient
) -> None:
    created = await upload(http, tenant)
    assert (await second.get(f"/v2/images/{created['id']}")).status_code == 200  # `second` now holds the record
    assert (await http.delete(f"/v2/images/{created['id']}", headers=tenant.headers())).status_code == 204
    stale = await second.get(f"/v2/images/{created['id']}")
    assert stale.status_code == 200
    assert stale.headers["x-pinhole-fallback"] == "1"
    assert (
        await second.get(f"/v2/images/{created['id']}", headers=tenant.headers(), params={"info": "true"})
    ).status_code == 404
