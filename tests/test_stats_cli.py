"""`pinhole stats show` and `pinhole stats recount`, run as subprocesses against the database a live app filled."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from pinhole.db.models import ClientCounters
from pinhole.runtime import Runtime
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.test_cli_cache import pinhole, pinhole_json

pytestmark = pytest.mark.anyio


async def test_show_and_recount(
    settings: Settings, runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    photo = await upload(http, tenant, img.make_jpeg(120, 80), user="alice")
    shown = await pinhole_json(settings, "stats", "show")
    [mine] = [c for c in shown["perClient"] if c["id"] == tenant.id]
    assert (mine["images"], mine["original_bytes"], mine["name"]) == (1, photo["size"], "tenant-a")
    assert shown["totals"]["blobs"] == 1

    assert await pinhole_json(settings, "stats", "recount") == {"drift": [], "repaired": False, "dryRun": False}
    async with runtime.db.writer() as session:
        await session.execute(update(ClientCounters).where(ClientCounters.client_id == tenant.id).values(images=7))
    drift = [{"scope": tenant.id, "counter": "images", "stored": 7, "actual": 1}]
    dry = await pinhole_json(settings, "stats", "recount", "--dry-run")
    assert dry == {"drift": drift, "repaired": False, "dryRun": True}
    text = await pinhole(settings, "stats", "recount")
    assert text.returncode == 0, text.stderr
    assert "1 counter(s) were repaired" in text.stdout
    assert f"{tenant.id} images: stored 7, actual 1" in text.stdout
    assert (await pinhole_json(settings, "stats", "recount"))["drift"] == []
