"""Redis configured but unreachable (a closed port): the app serves uploads, images and rate limits on its
in-process state, logs one warning for the outage, and names Redis in /readyz without failing it."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.redisserver import CLOSED_PORT_URL

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        # A cool-down of 0: every call tries Redis again, so the test sees that retries do not warn again.
        "redis": {"url": CLOSED_PORT_URL, "cooldown_seconds": 1e-9},
        "rate_limits": {"rules": {"*": "off", "v2.images.list": "3/minute"}},
    }


async def test_the_app_serves_normally_and_warns_once_when_redis_is_unreachable(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pinhole.shared.link")
    image = await upload(http, tenant, img.make_jpeg(120, 80), user="alice")
    url = f"/v2/images/{image['id']}"
    for _ in range(2):
        original = await http.get(url)
        assert original.status_code == 200
        img.assert_image(original.content, format="jpeg", width=120, height=80)
    variant = await http.get(url, params={"w": 60})
    img.assert_image(variant.content, format="jpeg", width=60, height=40)
    listed = [await http.get("/v2/images", headers=tenant.headers()) for _ in range(4)]
    assert [r.status_code for r in listed] == [200, 200, 200, 429]
    changed = await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": True})
    assert changed.status_code == 200
    assert (await http.get(url, params={"info": "true"})).status_code == 404
    assert await runtime.usage.pending_views(image["id"]) == 3  # the original twice, the variant once
    await runtime.usage.flush()
    info = await http.get(url, params={"info": "true"}, headers=tenant.headers("alice"))
    assert info.json()["views"] == 3

    # Once in the app's life: the first attempt may come from a background task while the app starts (setup).
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    warnings = [r for r in records if r.name == "pinhole.shared.link" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
    assert runtime.redis is not None
    assert runtime.redis.outages == 1


async def test_readyz_names_redis_but_stays_ready(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert (body["checks"]["database"], body["checks"]["storage"]) == ("ok", "ok")
    assert body["checks"]["redis"].startswith("unavailable: ")
