"""Rate limits: parsing, rules per API and route, fixed windows, headers, bounded memory and exact counts."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from pinhole.errors import RateLimited
from pinhole.security.ratelimit import (
    MemoryRateLimitStore,
    RateLimit,
    RateLimiter,
    RateLimitRules,
    address_key,
    rate_limit_headers,
)
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio


def limiter(clock: ManualClock, rules: dict[str, str], store: MemoryRateLimitStore | None = None) -> RateLimiter:
    return RateLimiter(MemoryRateLimitStore() if store is None else store, RateLimitRules.parse(rules), clock=clock)


@pytest.mark.parametrize(
    ("text", "limit", "window"),
    [
        ("10/minute", 10, 60),
        ("100/hour", 100, 3600),
        ("5/10s", 5, 10),
        ("1000/day", 1000, 86400),
        (" 3 / 2 minutes ", 3, 120),
        ("7/S", 7, 1),
        ("20/30sec", 20, 30),
    ],
)
def test_limit_strings_parse(text: str, limit: int, window: int) -> None:
    assert RateLimit.parse(text) == RateLimit(limit, window)


@pytest.mark.parametrize(
    "text", ["", "10", "ten/minute", "10/fortnight", "0/minute", "10/0s", "-1/minute", "10/minute/x", "10/1.5s"]
)
def test_malformed_limit_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit.parse(text)


def test_rule_errors_name_the_scope() -> None:
    with pytest.raises(ValueError, match=r"^v2\.upload: "):
        RateLimitRules.parse({"v2": "10/minute", "v2.upload": "often"})


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("v2.upload", ("v2.upload", RateLimit(2, 60))),
        ("v2.images.list", ("v2", RateLimit(100, 60))),
        ("v1.images", ("*", RateLimit(1000, 3600))),
    ],
)
def test_most_specific_rule_applies(route: str, expected: tuple[str, RateLimit]) -> None:
    rules = RateLimitRules.parse({"v2": "100/minute", "v2.upload": "2/minute", "*": "1000/hour"})
    assert rules.lookup(route) == expected


async def test_unlimited_route_has_no_decision(clock: ManualClock) -> None:
    assert await limiter(clock, {"v2": "1/minute"}).hit("ip:1.2.3.4", route="v3.images") is None


async def test_hits_count_down_then_refuse_until_the_window_resets(clock: ManualClock) -> None:
    limits = limiter(clock, {"v2": "3/10s"})
    start = clock.now
    allowed = [await limits.hit("user:1", route="v2.images") for _ in range(3)]
    assert [(d.allowed, d.remaining, d.reset) for d in allowed if d] == [
        (True, 2, start + 10),
        (True, 1, start + 10),
        (True, 0, start + 10),
    ]
    clock.advance(4)
    refused = await limits.hit("user:1", route="v2.images")
    assert refused is not None
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 6)
    clock.advance(6)
    again = await limits.hit("user:1", route="v2.images")
    assert again is not None
    assert (again.allowed, again.remaining, again.reset) == (True, 2, start + 20)


async def test_headers_for_allowed_and_refused_hits(clock: ManualClock) -> None:
    clock.now = 1_700_000_000.25
    limits = limiter(clock, {"*": "1/minute"})
    allowed = await limits.hit("ip:1.2.3.4", route="v2.images")
    refused = await limits.hit("ip:1.2.3.4", route="v2.images")
    assert allowed is not None
    assert refused is not None
    assert rate_limit_headers(allowed) == {
        "X-RateLimit-Limit": "1",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700000061",
    }
    assert rate_limit_headers(refused) == {
        "X-RateLimit-Limit": "1",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700000061",
        "Retry-After": "60",
    }


async def test_enforce_raises_429_with_headers(clock: ManualClock) -> None:
    limits = limiter(clock, {"*": "1/minute"})
    assert await limits.enforce("apikey:k", route="v2.upload") is not None
    clock.advance(15)
    with pytest.raises(RateLimited) as caught:
        await limits.enforce("apikey:k", route="v2.upload")
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (429, "rate_limited", 45)
    assert caught.value.headers["Retry-After"] == "45"


async def test_keys_and_scopes_count_apart(clock: ManualClock) -> None:
    limits = limiter(clock, {"v2": "1/minute", "v2.upload": "1/minute"})
    results = [
        await limits.hit("user:a", route="v2.images"),
        await limits.hit("user:a", route="v2.status"),  # same API-wide counter: refused
        await limits.hit("user:b", route="v2.images"),  # another caller
        await limits.hit("user:a", route="v2.upload"),  # its own rule, its own counter
    ]
    assert [d.allowed for d in results if d] == [True, False, True, True]


async def test_expired_windows_are_purged(clock: ManualClock) -> None:
    store = MemoryRateLimitStore(sweep_every=60)
    limits = limiter(clock, {"*": "5/10s"}, store)
    for n in range(1000):
        await limits.hit(f"ip:10.0.{n // 256}.{n % 256}", route="x")
    assert store.size == 1000
    clock.advance(61)
    await limits.hit("ip:192.0.2.1", route="x")
    assert store.size == 1


async def test_memory_is_bounded_by_max_keys(clock: ManualClock) -> None:
    store = MemoryRateLimitStore(max_keys=10)
    limits = limiter(clock, {"*": "5/hour"}, store)
    for n in range(50):
        await limits.hit(f"user:{n}", route="x")
    assert store.size == 10


async def test_concurrent_hits_are_counted_exactly(clock: ManualClock) -> None:
    limits = limiter(clock, {"*": "10/minute"})
    decisions = await asyncio.gather(*(limits.hit("user:1", route="x") for _ in range(50)))
    assert sum(1 for d in decisions if d and d.allowed) == 10
    assert sorted(d.remaining for d in decisions if d)[-1] == 9


def test_hits_from_threads_are_counted_exactly() -> None:
    store = MemoryRateLimitStore()

    async def hammer() -> int:
        counts = [(await store.hit("k", window_seconds=60, now=0.0)).count for _ in range(200)]
        return max(counts)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: asyncio.run(hammer()), range(8)))
    assert asyncio.run(store.hit("k", window_seconds=60, now=0.0)).count == 8 * 200 + 1


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("192.0.2.7", "ip:192.0.2.7"),
        ("2001:db8:1:2::1", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "ip:2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "ip:192.0.2.7"),
        ("not-an-address", "ip:not-an-address"),
    ],
)
def test_address_keys_group_ipv6_by_64(ip: str, key: str) -> None:
    assert address_key(ip) == key


def test_rate_limited_error_carries_its_headers_to_every_api() -> None:
    from pinhole.errors import Overloaded, RateLimited

    error = RateLimited(retry_after=7, headers={"Retry-After": "7", "X-RateLimit-Limit": "10"})
    assert error.response_headers() == {"Retry-After": "7", "X-RateLimit-Limit": "10"}
    assert Overloaded(retry_after=2).response_headers() == {"Retry-After": "2"}


async def test_refusal_looks_without_counting(clock: ManualClock) -> None:
    limits = limiter(clock, {"v2.auth": "2/minute"})
    assert await limits.refusal("failed-auth:ip:1.2.3.4", route="v2.auth.failed") is None
    await limits.hit("failed-auth:ip:1.2.3.4", route="v2.auth.failed")
    assert await limits.refusal("failed-auth:ip:1.2.3.4", route="v2.auth.failed") is None
    await limits.hit("failed-auth:ip:1.2.3.4", route="v2.auth.failed")
    clock.advance(20)
    for _ in range(3):  # looking does not count: the answer stays the same
        refused = await limits.refusal("failed-auth:ip:1.2.3.4", route="v2.auth.failed")
        assert refused is not None
        assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 40)
    clock.advance(40)
    assert await limits.refusal("failed-auth:ip:1.2.3.4", route="v2.auth.failed") is None
    assert await limits.refusal("anything", route="v3.images") is None  # no rule


def test_limits_says_whether_a_rule_applies(clock: ManualClock) -> None:
    limits = limiter(clock, {"v2": "5/minute", "v2.images.serve": "off"})
    assert limits.limits("v2.images.list")
    assert not limits.limits("v2.images.serve")
    assert not limits.limits("v3.images")
