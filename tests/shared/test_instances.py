"""Two instances (two apps built from the same settings) sharing one Redis, one database and one blob store:
rate limits, sign-in back-off, variant renders, view counts and image-record caches act as one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.app import create_app
from pinhole.runtime import Runtime
from pinhole.services.images import find_image
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides(redis_settings: dict[str, str]) -> dict[str, Any]:
    return {
        "redis": redis_settings,
        "rate_limits": {"rules": {"*": "off", "v2.images.list": "3/minute"}},
        # Long enough that only the shared invalidation, not expiry, can make B see A's change.
        "delivery": {"metadata_cache_seconds": 3600},
    }


@pytest.fixture
async def app_b(settings: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """A second instance; `app` (instance A) has migrated the database."""
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        yield second


@pytest.fixture
def runtime_b(app_b: FastAPI) -> Runtime:
    rt: Runtime = app_b.state.runtime
    return rt


@pytest.fixture
async def http_b(app_b: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_b), base_url="http://testserver") as client:
        yield client


async def test_a_rate_limit_counts_hits_through_every_instance(
    http: httpx.AsyncClient, http_b: httpx.AsyncClient, tenant: ApiClient
) -> None:
    first = [await http.get("/v2/images", headers=tenant.headers()) for _ in range(2)]
    third = await http_b.get("/v2/images", headers=tenant.headers())
    fourth = await http.get("/v2/images", headers=tenant.headers())
    assert [r.status_code for r in [*first, third, fourth]] == [200, 200, 200, 429]
    assert third.headers["x-ratelimit-remaining"] == "0"
    assert (await http_b.get("/v2/images", headers=tenant.headers())).status_code == 429


async def test_one_new_variant_asked_of_both_instances_at_once_is_rendered_once(
    http: httpx.AsyncClient, http_b: httpx.AsyncClient, runtime: Runtime, runtime_b: Runtime, tenant: ApiClient
) -> None:
    image = await upload(http, tenant, img.make_jpeg(400, 300))
    url = f"/v2/images/{image['id']}"
    responses = await asyncio.gather(*[client.get(url, params={"w": 60}) for client in (http, http_b) * 3])
    assert [r.status_code for r in responses] == [200] * 6
    for response in responses:
        img.assert_image(response.content, format="jpeg", width=60, height=45)
    assert runtime.variants.renders + runtime_b.variants.renders == 1


async def test_views_counted_by_one_instance_are_pending_in_the_other_and_written_once(
    http: httpx.AsyncClient, http_b: httpx.AsyncClient, runtime: Runtime, runtime_b: Runtime, tenant: ApiClient
) -> None:
    image = await upload(http, tenant)
    url = f"/v2/images/{image['id']}"
    for client in (http, http, http_b):
        assert (await client.get(url)).status_code == 200
    assert await runtime.usage.pending_views(image["id"]) == 3
    assert await runtime_b.usage.pending_views(image["id"]) == 3
    info = await http_b.get(url, params={"info": "true"}, headers=tenant.headers())
    assert info.json()["views"] == 3

    await asyncio.gather(runtime_b.usage.flush(), runtime.usage.flush())
    await runtime.usage.flush()
    stored = await find_image(db=runtime.db, image_id=image["id"])
    assert stored is not None
    assert stored.view_count == 3
    assert await runtime.usage.pending_views(image["id"]) == 0
    assert (await http.get(url, params={"info": "true"}, headers=tenant.headers())).json()["views"] == 3


async def test_a_change_through_one_instance_is_served_at_once_by_the_other(
    http: httpx.AsyncClient, http_b: httpx.AsyncClient, runtime_b: Runtime, tenant: ApiClient
) -> None:
    image = await upload(http, tenant, user="alice")
    url = f"/v2/images/{image['id']}"
    data = (await http.get(url)).content
    for _ in range(2):  # the second answer comes from B's warm path, on its cached row
        assert (await http_b.get(url)).content == data
    assert runtime_b.recent.get(image["id"]) is not None

    changed = await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": True})
    assert changed.status_code == 200
    assert (await http_b.get(url)).content != data  # the fallback image: B saw the change
    assert (await http_b.get(url, params={"info": "true"})).status_code == 404

    await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": False})
    assert (await http_b.get(url)).content == data
    assert (await http.delete(url, headers=tenant.headers("alice"))).status_code == 204
    assert (await http_b.get(url, params={"info": "true"})).status_code == 404


async def test_sign_in_back_off_is_shared(runtime: Runtime, runtime_b: Runtime) -> None:
    from pinhole.errors import LoginThrottled

    threshold = runtime.settings.accounts.login_account_threshold
    for n in range(threshold):
        instance = (runtime, runtime_b)[n % 2]
        await instance.login_backoff.check("victim@example.com", f"198.51.100.{n}")
        await instance.login_backoff.record_failure("victim@example.com", f"198.51.100.{n}")
    with pytest.raises(LoginThrottled):
        await runtime_b.login_backoff.check("victim@example.com", "203.0.113.9")


async def test_readyz_checks_redis(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok", "redis": "ok"}
