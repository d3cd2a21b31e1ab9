"""`SharedFlight` across two links (two instances): one does the work, the other waits for its result, and a lock
whose holder died is taken over after its lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from pinhole.settings import RedisSettings
from pinhole.shared.link import RedisLink
from pinhole.shared.locks import SharedFlight

pytestmark = pytest.mark.anyio


@pytest.fixture
async def links(redis_settings: dict[str, str]) -> AsyncIterator[tuple[RedisLink, RedisLink]]:
    made = [RedisLink.from_settings(RedisSettings(**redis_settings)) for _ in range(2)]
    a, b = made
    assert a is not None
    assert b is not None
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_the_second_instance_waits_for_the_first_ones_result(links: tuple[RedisLink, RedisLink]) -> None:
    a, b = (SharedFlight(link, lease=30, wait=60) for link in links)
    result: list[str] = []
    started = asyncio.Event()
    finish = asyncio.Event()
    made: list[str] = []

    async def lookup() -> str | None:
        return result[0] if result else None

    async def make(who: str) -> str:
        made.append(who)
        started.set()
        await finish.wait()
        result.append(f"made by {who}")
        return result[0]

    first = asyncio.create_task(a.run("thing", lookup=lookup, make=lambda: make("a")))
    await started.wait()
    second = asyncio.create_task(b.run("thing", lookup=lookup, make=lambda: make("b")))
    while b.waits == 0:  # b found the lock held
        await asyncio.sleep(0.01)
    finish.set()
    assert list(await asyncio.gather(first, second)) == ["made by a", "made by a"]
    assert made == ["a"]
    assert (a.waits, b.waits, b.takeovers) == (0, 1, 0)


async def test_a_dead_holders_lock_is_taken_over_after_its_lease(
    links: tuple[RedisLink, RedisLink], redis_settings: dict[str, str]
) -> None:
    link = links[0]
    # A holder that died: its lock, never renewed, with a short lease.
    client = redis.Redis.from_url(redis_settings["url"])
    client.set(link.key("lock", "thing"), "someone-else", px=300)
    client.close()
    flight = SharedFlight(link, lease=30, wait=60)

    async def nothing() -> str | None:
        return None

    async def make() -> str:
        return "made here"

    assert await flight.run("thing", lookup=nothing, make=make) == "made here"
    assert (flight.waits, flight.takeovers) == (1, 1)


async def test_the_holder_renews_its_lease_while_working(links: tuple[RedisLink, RedisLink]) -> None:
    # A lease long enough that a busy machine's event loop never misses a renewal (every third of it).
    a, b = (SharedFlight(link, lease=1.5, wait=60) for link in links)
    release = asyncio.Event()
    made: list[str] = []

    async def nothing() -> str | None:
        return None

    async def slow() -> str:
        made.append("a")
        await release.wait()
        return "a"

    async def quick() -> str:
        made.append("b")
        return "b"

    holder = asyncio.create_task(a.run("thing", lookup=nothing, make=slow))
    while not made:
        await asyncio.sleep(0.01)
    waiter = asyncio.create_task(b.run("thing", lookup=nothing, make=quick))
    await asyncio.sleep(4.5)  # three leases: without renewal the waiter would have taken the lock over
    assert made == ["a"]
    release.set()
    assert await holder == "a"
    assert await waiter == "b"  # once released, the waiter takes the lock (its lookup found nothing)
    assert b.takeovers == 1
