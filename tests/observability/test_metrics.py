"""/metrics after real requests through the app: counters and histograms move as the requests say they should."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from pinhole.app import create_app
from pinhole.dialects import DIALECTS
from pinhole.observability.metrics import FAMILY_NAMES
from pinhole.runtime import Runtime
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.observability.scrape import scrape
from tests.support.images import assert_image, make_jpeg, make_png

pytestmark = pytest.mark.anyio


async def test_a_cold_render_counts_once_as_a_render_and_a_warm_hit_as_a_hit(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    image = await upload(http, tenant, make_jpeg(320, 240))
    before = await scrape(http)
    cold = await http.get(f"/v2/images/{image['id']}", params={"w": 80, "format": "webp"})
    assert_image(cold.content, format="webp", width=80, height=60)
    after_cold = await scrape(http)
    assert after_cold.value("pinhole_delivery_answers_total", source="render") == 1
    assert after_cold.value("pinhole_render_duration_seconds_count", format="webp") == 1
    assert after_cold.value("pinhole_render_queue_wait_seconds_count") >= 1
    assert before.value("pinhole_delivery_answers_total", source="memory") == 0

    for _ in range(3):  # warm: the fast path answers from memory (the first one reads the store once)
        warm = await http.get(f"/v2/images/{image['id']}", params={"w": 80, "format": "webp"})
        assert warm.content == cold.content
    after_warm = await scrape(http)
    assert after_warm.value("pinhole_delivery_answers_total", source="render") == 1
    assert after_warm.value("pinhole_render_duration_seconds_count", format="webp") == 1
    served = sum(after_warm.value("pinhole_delivery_answers_total", source=s) for s in ("memory", "store"))
    assert served - sum(after_cold.value("pinhole_delivery_answers_total", source=s) for s in ("memory", "store")) == 3
    assert after_warm.value("pinhole_delivery_answers_total", source="memory") >= 2
    assert after_warm.value("pinhole_memory_cache_requests_total", result="hit") >= 2
    assert after_warm.value("pinhole_memory_cache_bytes") > 0
    # The fast path answers for the v2 route it stands in for, with the bytes it sent.
    requests = after_warm.value("pinhole_http_requests_total", dialect="v2", route="images.serve", status="2xx")
    assert requests == 4
    assert after_warm.value("pinhole_http_response_bytes_total", dialect="v2", route="images.serve") == 4 * len(
        cold.content
    )
    assert after_warm.value("pinhole_http_request_duration_seconds_count", dialect="v2", route="images.serve") == 4


async def test_uploads_count_by_outcome_and_a_refused_one_by_its_reason(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    photo = make_png(40, 30)
    await upload(http, tenant, photo, filename="a.png")
    await upload(http, tenant, photo, filename="again.png")  # same content: stored once
    refused = await http.post(
        "/v2/images", headers=tenant.headers(), files={"file": ("notes.txt", b"not an image at all", "text/plain")}
    )
    assert refused.status_code == 415, refused.text
    found = await scrape(http)
    assert found.value("pinhole_uploads_total", dialect="v2", outcome="stored") == 1
    assert found.value("pinhole_uploads_total", dialect="v2", outcome="deduplicated") == 1
    assert found.value("pinhole_uploads_total", dialect="v2", outcome="refused", reason="unsupported_format") == 1
    assert found.value("pinhole_upload_bytes_total", dialect="v2") > 0
    assert found.value("pinhole_ingest_duration_seconds_count", dialect="v2") == 3
    assert found.value("pinhole_api_errors_total", dialect="v2", code="unsupported_format") == 1
    assert found.value("pinhole_http_requests_total", dialect="v2", route="images.upload", status="2xx") == 2
    assert found.value("pinhole_http_requests_total", dialect="v2", route="images.upload", status="4xx") == 1
    backend = runtime.settings.storage.backend  # local, or s3 on the scaled stack
    assert found.value("pinhole_blob_store_operations_total", backend=backend, operation="put") >= 1


def _upload_route(app: FastAPI, dialect: str) -> tuple[str, str]:
    """(name, path) of the dialect's upload route, found through its tag as the middleware finds it."""
    for context in iter_route_contexts(app.routes):
        tags = getattr(context, "tags", None) or []
        name, path = context.name or "", context.path_format or ""
        if tags[:1] == [dialect] and "POST" in (context.methods or ()) and name.rpartition(".")[2] == "upload":
            return name.removeprefix(f"{dialect}."), path  # the label drops the API's name
    raise AssertionError(f"{dialect} has no upload route")


# The hosting APIs (on by default); the proxy URL languages are off by default and upload only through Cloudinary's.
@pytest.mark.parametrize("dialect", [d.name for d in DIALECTS if d.mount(Settings()).enabled])
async def test_each_dialect_counts_under_its_own_name(app: FastAPI, http: httpx.AsyncClient, dialect: str) -> None:
    name, path = _upload_route(app, dialect)
    files = {"file": ("x.txt", b"plain text", "text/plain"), "image": ("x.txt", b"plain text", "text/plain")}
    response = await http.post(path, files=files, headers={"X-API-Key": "phk_wrong"})
    assert 400 <= response.status_code < 500, response.text
    found = await scrape(http)
    status = f"{response.status_code // 100}xx"
    assert found.value("pinhole_http_requests_total", dialect=dialect, route=name, status=status) == 1
    assert found.value("pinhole_http_request_duration_seconds_count", dialect=dialect, route=name) == 1
    assert found.value("pinhole_uploads_total", dialect=dialect, outcome="refused") == 1
    assert found.value("pinhole_api_errors_total", dialect=dialect) == 1


async def test_a_wrong_api_key_counts_as_failed_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/v2/images", headers={"X-API-Key": "phk_not-a-real-key"})
    assert response.status_code == 401
    found = await scrape(http)
    assert found.value("pinhole_failed_credentials_total", dialect="v2", code="invalid_api_key") == 1


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous"}}])
async def test_a_refused_signature_counts_by_its_code(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image = await upload(http, tenant)
    await http.get(f"/v2/images/{image['id']}", params={"w": 20})
    await http.get(
        f"/v2/images/{image['id']}", params={"w": 20, "sig": "k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    )
    found = await scrape(http)
    assert found.value("pinhole_signature_refusals_total", code="missing_signature") == 1
    assert found.value("pinhole_signature_refusals_total", code="invalid_signature") == 1
    assert found.value("pinhole_delivery_answers_total", source="render") == 0


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"*": "off", "v2.images.list": "2/minute"}}}])
async def test_rate_limit_refusals_count_by_scope(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    statuses = [(await http.get("/v2/images", headers=tenant.headers())).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    found = await scrape(http)
    assert found.value("pinhole_rate_limit_refusals_total", scope="v2.images.list") == 1


async def test_gauges_and_build_info(http: httpx.AsyncClient, runtime: Runtime) -> None:
    found = await scrape(http)
    assert found.value("pinhole_build_info") == 1
    assert found.value("pinhole_variant_cache_budget_bytes") == runtime.settings.variant_cache.max_bytes
    assert found.value("pinhole_render_queue_depth") == 0
    assert "process_cpu_seconds_total" in found.names()
    assert "python_gc_objects_collected_total" in found.names()
    assert found.value("pinhole_http_requests_total", dialect="pinhole", route="metrics") == 0  # counted after


async def test_every_family_is_exported(http: httpx.AsyncClient) -> None:
    text = (await http.get("/metrics")).text
    declared = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert set(FAMILY_NAMES) <= declared


async def test_apps_do_not_share_metrics(settings: Settings, http: httpx.AsyncClient) -> None:
    await http.get("/healthz")
    other = create_app(settings)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
        found = await scrape(fresh)
    assert found.value("pinhole_http_requests_total", route="healthz") == 0
    assert (await scrape(http)).value("pinhole_http_requests_total", route="healthz") == 1


@pytest.mark.parametrize("settings_overrides", [{"metrics": {"token": "scrape-me-0123456789"}}])
async def test_a_metrics_token_is_required_when_set(http: httpx.AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 401
    assert (await http.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
    await scrape(http, Authorization="Bearer scrape-me-0123456789")


@pytest.mark.parametrize(
    "settings_overrides",
    [{"metrics": {"enabled": False}}, {"metrics": {"port": 9999}}],
    ids=["off", "own-port"],
)
async def test_no_metrics_route_when_off_or_on_its_own_port(http: httpx.AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 404


async def test_request_ids_are_echoed_and_a_proxy_may_set_one(app: FastAPI, settings: Settings) -> None:
    async def request_id(client: tuple[str, int], sent: str | None) -> str:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers: dict[str, Any] = {"X-Request-Id": sent} if sent else {}
            response = await http.get("/healthz", headers=headers)
        return response.headers["x-request-id"]

    assert settings.server.trusted_proxies == ["127.0.0.1/32", "::1/128"]
    assert await request_id(("127.0.0.1", 5000), "edge-42") == "edge-42"
    assert await request_id(("203.0.113.9", 5000), "edge-42") != "edge-42"  # not a trusted proxy
    assert await request_id(("127.0.0.1", 5000), "bad id\x7f") != "bad id\x7f"
    first, second = await request_id(("203.0.113.9", 1), None), await request_id(("203.0.113.9", 1), None)
    assert first != second


@pytest.mark.parametrize(
    "settings_overrides", [{"redis": {"url": "redis://127.0.0.1:1/0", "connect_timeout_seconds": 0.2}}]
)
async def test_an_unreachable_redis_shows_as_degraded_with_fallbacks(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    """Nothing listens on port 1: rate limits fall back to in-process counters, and the metrics say so."""
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 200
    found = await scrape(http)
    assert found.value("pinhole_redis_degraded") == 1
    assert found.value("pinhole_redis_outages_total") == 1
    assert found.value("pinhole_redis_fallbacks_total") >= 1


async def test_avatar_uploads_count_by_outcome_and_reason(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    photo = make_png(48, 48)

    async def put(user: str, data: bytes, name: str = "me.png") -> int:
        files = {"file": (name, data, "image/png")}
        response = await http.post("/v2/avatars", headers=tenant.headers(), files=files, data={"externalUserId": user})
        return response.status_code

    assert await put("alice", photo) == 201
    assert await put("bob", photo) == 201  # the same picture: its content is stored once
    assert await put("carol", b"not a picture", "me.txt") == 415
    missing = await http.post("/v2/avatars", headers=tenant.headers(), data={"externalUserId": "dan"})
    assert missing.status_code == 400
    found = await scrape(http)
    uploads = "pinhole_uploads_total"
    assert found.value(uploads, dialect="v2", kind="avatar", outcome="stored") == 1
    assert found.value(uploads, dialect="v2", kind="avatar", outcome="deduplicated") == 1
    assert found.value(uploads, dialect="v2", kind="avatar", outcome="refused", reason="unsupported_format") == 1
    assert found.value(uploads, dialect="v2", kind="avatar", outcome="refused") == 2
    assert found.value(uploads, kind="image") == 0
    assert found.value("pinhole_upload_bytes_total", dialect="v2", kind="avatar") > 0
    assert found.value("pinhole_ingest_duration_seconds_count", dialect="v2", kind="avatar") == 3


async def test_userphotos_uploads_count_under_their_api(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    headers = {"Authorization": f"Bearer {tenant.key}"}
    photo = {"image": ("p.jpg", make_jpeg(64, 48), "image/jpeg")}
    stored = await http.post("/v1/upload", headers=headers, data={"user_id": "u1"}, files=photo)
    assert stored.status_code == 200, stored.text
    text = {"image": ("p.txt", b"plain text", "text/plain")}
    refused = await http.post("/v1/upload", headers=headers, data={"user_id": "u1"}, files=text)
    assert 400 <= refused.status_code < 500
    found = await scrape(http)
    code = "unsupported_format"
    assert found.value("pinhole_uploads_total", dialect="userphotos", kind="image", outcome="stored") == 1
    assert found.value("pinhole_uploads_total", dialect="userphotos", outcome="refused", reason=code) == 1


async def test_the_database_pool_gauges_and_checkout_times_move(http: httpx.AsyncClient, runtime: Runtime) -> None:
    engine = runtime.db.read_engine
    size = engine.sync_engine.pool.size()  # type: ignore[attr-defined]
    before = await scrape(http)
    async with contextlib.AsyncExitStack() as held:
        for _ in range(size + 1):  # one more than the pool keeps: an overflow connection
            connection = await held.enter_async_context(engine.connect())
            await connection.exec_driver_sql("SELECT 1")
        during = await scrape(http)
    after = await scrape(http)
    assert during.value("pinhole_db_pool_in_use") >= size + 1
    assert during.value("pinhole_db_pool_overflow") >= 1
    assert after.value("pinhole_db_pool_in_use") < during.value("pinhole_db_pool_in_use")
    checkouts = "pinhole_db_pool_wait_seconds_count"
    assert during.value(checkouts) - before.value(checkouts) >= size + 1
    assert during.value("pinhole_db_pool_wait_seconds_sum") > 0
