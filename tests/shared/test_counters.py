"""The Redis rate-limit and attempt stores keep the in-process stores' contract, atomically across instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pinhole.security.ratelimit import Window
from pinhole.settings import RedisSettings
from pinhole.shared.counters import RedisAttemptStore, RedisRateLimitStore
from pinhole.shared.link import RedisLink

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0


@pytest.fixture
async def links(redis_settings: dict[str, str]) -> AsyncIterator[list[RedisLink]]:
    made = [RedisLink.from_settings(RedisSettings(**redis_settings)) for _ in range(2)]
    links = [link for link in made if link is not None]
    assert len(links) == 2
    yield links
    for link in links:
        await link.aclose()


async def test_a_window_opens_at_the_first_hit_and_counts_every_hit(links: list[RedisLink]) -> None:
    a, b = (RedisRateLimitStore(link) for link in links)
    assert await a.peek("k", now=NOW) is None
    assert await a.hit("k", window_seconds=60, now=NOW) == Window(1, NOW + 60)
    assert await b.hit("k", window_seconds=60, now=NOW + 5) == Window(2, NOW + 60)
    assert await b.hit("other", window_seconds=60, now=NOW + 5) == Window(1, NOW + 65)
    assert await a.peek("k", now=NOW + 6) == Window(2, NOW + 60)
    assert await a.peek("k", now=NOW + 61) is None  # past its reset, though Redis has not dropped it yet


async def test_concurrent_hits_from_two_instances_are_counted_exactly(links: list[RedisLink]) -> None:
    stores = [RedisRateLimitStore(link) for link in links]
    windows = await asyncio.gather(*[stores[n % 2].hit("k", window_seconds=60, now=NOW) for n in range(40)])
    assert sorted(window.count for window in windows) == list(range(1, 41))


async def test_attempts_add_refund_and_clear(links: list[RedisLink]) -> None:
    a, b = (RedisAttemptStore(link) for link in links)
    assert await a.get("k", now=NOW) is None
    await a.add("k", now=NOW, ttl=60)
    added = await b.add("k", now=NOW + 1, ttl=60)
    assert (added.count, added.last_at) == (2, NOW + 1)
    await a.refund("k", now=NOW + 2)
    found = await b.get("k", now=NOW + 2)
    assert found is not None
    assert (found.count, found.last_at) == (1, NOW + 1)  # a refund leaves the last time as it was
    await b.refund("k", now=NOW + 3)
    assert await a.get("k", now=NOW + 3) is None
    await a.refund("k", now=NOW + 3)  # never below zero
    assert await a.get("k", now=NOW + 3) is None
    await a.add("k", now=NOW, ttl=60)
    await b.clear("k")
    assert await a.get("k", now=NOW) is None
