"""Rate limits through the v2 API: headers, refusals in the v2 shape, windows, keys, exemptions, the fast path and
failed credentials. The limiter runs on a hand-moved clock, so no test waits for a window to pass."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.security.ratelimit import MemoryRateLimitStore, RateLimiter, RateLimitRules
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.security.clock import ManualClock
from tests.support import images as img

pytestmark = pytest.mark.anyio

RULES = {
    "*": "3/minute",
    "v2.images.upload": "2/minute",
    "v2.auth": "2/minute",
    "v2.status": "off",
}
LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"rules": RULES}}


@pytest.fixture
def clock(runtime: Runtime) -> ManualClock:
    """Swap in a limiter with the app's rules on a clock the test moves."""
    manual = ManualClock()
    rules = RateLimitRules.parse(runtime.settings.rate_limits.rules)
    runtime.limiter = RateLimiter(MemoryRateLimitStore(), rules, clock=manual)
    return manual


def limit_headers(response: httpx.Response) -> tuple[str | None, ...]:
    return tuple(response.headers.get(name) for name in LIMIT_HEADERS)


def remaining(response: httpx.Response) -> int:
    return int(response.headers["x-ratelimit-remaining"])


def from_address(ip: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    """The test transport's peer is 127.0.0.1, a trusted proxy: X-Forwarded-For names the client."""
    return {**(headers or {}), "X-Forwarded-For": ip}


async def test_limited_responses_count_down_then_429_in_the_v2_shape(
    http: httpx.AsyncClient, tenant: ApiClient, clock: ManualClock
) -> None:
    reset = str(int(clock.now) + 60)
    allowed = [await http.get("/v2/images", headers=tenant.headers()) for _ in range(3)]
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [limit_headers(r) for r in allowed] == [("3", "2", reset), ("3", "1", reset), ("3", "0", reset)]
    assert all("retry-after" not in r.headers for r in allowed)

    clock.advance(15)
    refused = await http.get("/v2/images", headers=tenant.headers())
    assert refused.status_code == 429
    assert limit_headers(refused) == ("3", "0", reset)
    assert refused.headers["retry-after"] == "45"
    assert refused.json() == {
        "error": {
            "code": "rate_limited",
            "message": "Too many requests; retry later.",
            "status": 429,
            "field": None,
            "details": {"retry_after": 45},
        }
    }


async def test_the_window_resets(http: httpx.AsyncClient, tenant: ApiClient, clock: ManualClock) -> None:
    for _ in range(3):
        await http.get("/v2/images", headers=tenant.headers())
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 429
    clock.advance(59)
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 429
    clock.advance(1)
    again = await http.get("/v2/images", headers=tenant.headers())
    assert again.status_code == 200
    assert limit_headers(again) == ("3", "2", str(int(clock.now) + 60))


async def test_headers_reach_responses_routes_build_and_errors(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, clock: ManualClock
) -> None:
    photo = await upload(http, tenant, img.make_png(16, 16), user="alice")
    served = await http.get(f"/v2/images/{photo['id']}", headers=tenant.headers("alice"))  # a FileResponse
    deleted = await http.delete(f"/v2/images/{photo['id']}", headers=tenant.headers("alice"))  # Response(204)
    missing = await http.get(f"/v2/images/{uuid.uuid4()}", params={"info": "true"}, headers=tenant.headers())
    assert [served.status_code, deleted.status_code, missing.status_code] == [200, 204, 404]
    assert [remaining(r) for r in (served, deleted, missing)] == [2, 1, 0]  # `*` counts serve, delete and info


async def test_api_keys_and_addresses_count_apart(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, clock: ManualClock
) -> None:
    for _ in range(3):
        await http.get("/v2/images", headers=tenant.headers())
    # The same key from another address is the same caller; another key from the same address is not.
    assert (await http.get("/v2/images", headers=from_address("192.0.2.9", tenant.headers()))).status_code == 429
    other = await http.get("/v2/images", headers=other_tenant.headers())
    assert (other.status_code, remaining(other)) == (200, 2)
    # Anonymous callers count by address: the keyed requests above did not use this address's budget.
    anonymous = [await http.get(f"/v2/images/{uuid.uuid4()}", headers=from_address("192.0.2.1")) for _ in range(4)]
    assert [r.status_code for r in anonymous] == [200, 200, 200, 429]
    elsewhere = await http.get(f"/v2/images/{uuid.uuid4()}", headers=from_address("192.0.2.2"))
    assert (elsewhere.status_code, remaining(elsewhere)) == (200, 2)


async def test_a_route_rule_has_its_own_counter(http: httpx.AsyncClient, tenant: ApiClient, clock: ManualClock) -> None:
    await upload(http, tenant, img.make_png(10, 10))
    await upload(http, tenant, img.make_png(11, 11))
    refused = await upload(http, tenant, img.make_png(12, 12), expect=429)
    assert refused["error"]["code"] == "rate_limited"
    listed = await http.get("/v2/images", headers=tenant.headers())  # `*`, not the upload rule
    assert (listed.status_code, remaining(listed)) == (200, 2)
    assert len(listed.json()["data"]) == 2


async def test_off_exempts_a_route(http: httpx.AsyncClient, tenant: ApiClient, clock: ManualClock) -> None:
    for _ in range(10):
        response = await http.get("/v2/status", headers=tenant.headers())
        assert response.status_code == 200
        assert limit_headers(response) == (None, None, None)
    assert remaining(await http.get("/v2/images", headers=tenant.headers())) == 2


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"enabled": False, "rules": RULES}}])
async def test_limits_can_be_turned_off(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    assert runtime.limiter is None
    for _ in range(5):
        response = await http.get("/v2/images", headers=tenant.headers())
        assert response.status_code == 200
        assert limit_headers(response) == (None, None, None)


async def test_failed_credentials_count_per_address_and_lock_out_key_guessing(
    http: httpx.AsyncClient, tenant: ApiClient, clock: ManualClock
) -> None:
    guess = {"X-API-Key": "phk_" + "x" * 40}
    attacker = "198.51.100.7"
    failed = [await http.get("/v2/images", headers=from_address(attacker, guess)) for _ in range(2)]
    assert [r.status_code for r in failed] == [401, 401]
    assert [r.json()["error"]["code"] for r in failed] == ["invalid_api_key", "invalid_api_key"]
    assert [remaining(r) for r in failed] == [1, 0]  # the `v2.auth` rule: 2/minute

    locked = await http.get("/v2/images", headers=from_address(attacker, guess))
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "60"
    # Past the limit even a valid key from that address is refused unread, so guessing learns nothing more...
    valid = await http.get("/v2/images", headers=from_address(attacker, tenant.headers()))
    assert valid.status_code == 429
    # ...while anonymous requests from it and keys from other addresses go on as usual.
    assert (await http.get(f"/v2/images/{uuid.uuid4()}", headers=from_address(attacker))).status_code == 200
    assert (await http.get("/v2/images", headers=from_address("198.51.100.8", tenant.headers()))).status_code == 200

    clock.advance(60)
    assert (await http.get("/v2/images", headers=from_address(attacker, tenant.headers()))).status_code == 200


async def test_a_missing_key_is_not_a_failed_credential(http: httpx.AsyncClient, clock: ManualClock) -> None:
    responses = [await http.get("/v2/images") for _ in range(3)]
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert [r.json()["error"]["code"] for r in responses] == ["missing_api_key"] * 3
    assert "details" not in responses[0].json()["error"]  # only errors with something to add carry details
    assert [remaining(r) for r in responses] == [2, 1, 0]  # counted by address under `*`, not as failures


ANY_ID = "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"
ROUTES = [
    ("images.upload", "POST", "/v2/images"),
    ("images.list", "GET", "/v2/images"),
    ("images.serve", "GET", f"/v2/images/{ANY_ID}"),
    ("images.serve", "HEAD", f"/v2/images/{ANY_ID}"),
    ("images.shared", "GET", "/v2/images/share/shr_unknown"),
    ("images.shared", "HEAD", "/v2/images/share/shr_unknown"),
    ("images.update", "PATCH", f"/v2/images/{ANY_ID}"),
    ("images.delete", "DELETE", f"/v2/images/{ANY_ID}"),
    ("images.share", "POST", f"/v2/images/{ANY_ID}/share"),
    ("images.unshare", "DELETE", f"/v2/images/{ANY_ID}/share/shr_unknown"),
    ("status", "GET", "/v2/status"),
]


@pytest.mark.parametrize(
    ("settings_overrides", "method", "path"),
    [({"rate_limits": {"rules": {f"v2.{name}": "1/minute"}}}, method, path) for name, method, path in ROUTES],
    ids=[f"{name}-{method}" for name, method, _ in ROUTES],
)
async def test_each_route_is_limited_by_its_name(
    http: httpx.AsyncClient, tenant: ApiClient, method: str, path: str
) -> None:
    first = await http.request(method, path, headers=tenant.headers())
    second = await http.request(method, path, headers=tenant.headers())
    assert limit_headers(first)[:2] == ("1", "0"), first.text  # whatever the answer (200, 204, 400, 404...)
    assert second.status_code == 429
    other = next(p for n, m, p in ROUTES if p != path and m == "GET" and n != "status")
    assert limit_headers(await http.get(other, headers=tenant.headers())) == (None, None, None)


# The warm fast path answers public images without FastAPI; a rule on `v2.images.serve` must hold there too.


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"v2.images.serve": "3/minute"}}}])
async def test_the_fast_path_counts_on_the_serve_rule(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, clock: ManualClock
) -> None:
    photo = await upload(http, tenant, img.make_jpeg(80, 60), user="alice")
    url = f"/v2/images/{photo['id']}"
    cold = await http.get(url)  # the route: fills the caches
    hits = runtime.hot.hits
    warm = [await http.get(url), await http.get(url)]  # the fast path
    assert runtime.hot.hits > hits
    assert [remaining(r) for r in (cold, *warm)] == [2, 1, 0]
    assert all(r.status_code == 200 and r.content == cold.content for r in warm)
    assert limit_headers(warm[0])[0] == "3"

    refused = await http.get(url)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "60"
    not_modified = await http.get(url, headers={"If-None-Match": cold.headers["etag"]})
    assert not_modified.status_code == 429  # a conditional request is still a request

    hits = runtime.hot.hits
    elsewhere = await http.get(url, headers=from_address("203.0.113.5"))
    assert (elsewhere.status_code, remaining(elsewhere)) == (200, 2)
    assert runtime.hot.hits > hits  # answered by the fast path, on that address's own counter


@pytest.mark.parametrize("settings_overrides", [{}])  # the default rules: serving is `off`
async def test_the_fast_path_adds_no_headers_when_serving_is_unlimited(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    photo = await upload(http, tenant, img.make_jpeg(80, 60), user="alice")
    for _ in range(5):
        response = await http.get(f"/v2/images/{photo['id']}")
        assert response.status_code == 200
        assert limit_headers(response) == (None, None, None)
    assert runtime.hot.hits >= 1
