"""The per-process caches the warm paths consult, when their entry is due: `ClientDefaults` (a client's delivery
rules) and `KeyAbsence` (clients without own proxy keys).

When an entry expires under load, one request reads it again while the others keep the expired one (no burst of
identical queries, which stalled the event loop before), rules that come back unchanged stay the same object (the
warm path compares them by identity), and a change forgotten mid-read is not overwritten by that read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.runtime import Runtime
from pinhole.services.client_defaults import ClientDefaults, ClientRules
from pinhole.services.clients import ClientChanges, create_client, update_client
from pinhole.services.proxy_keys import ABSENCE_SECONDS, KeyAbsence, keys_for
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio


class GatedReads:
    """The real database, whose reads count themselves and wait until the test opens the gate."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.gate = asyncio.Event()
        self.reads = 0

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        self.reads += 1
        await self.gate.wait()
        async with self.db.reader() as session:
            yield session


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def cache_for(runtime: Runtime) -> tuple[ClientDefaults, GatedReads, ManualClock, str]:
    made = await create_client(db=runtime.db, name="rules")
    gated, clock = GatedReads(runtime.db), ManualClock()
    return ClientDefaults(db=cast(Database, gated), ttl=10, clock=clock), gated, clock, made.client.id


async def test_expired_rules_are_read_once_by_concurrent_callers(runtime: Runtime) -> None:
    cache, gated, clock, client_id = await cache_for(runtime)
    gated.gate.set()
    first = await cache.get(client_id)
    assert (first, gated.reads) == (ClientRules(), 1)

    clock.now += 11
    assert cache.cached(client_id) is None  # expired, and nobody reads it yet: the caller must
    gated.gate.clear()
    callers = [asyncio.ensure_future(cache.get(client_id)) for _ in range(20)]
    await settle()
    assert gated.reads == 2  # one query for all twenty
    assert cache.cached(client_id) is first  # the warm path keeps the expired rules meanwhile
    gated.gate.set()
    answers = await asyncio.gather(*callers)
    assert all(answer is first for answer in answers)  # unchanged: the very same object
    assert cache.cached(client_id) is first
    assert gated.reads == 2


async def test_changed_rules_replace_the_old_ones_after_the_read(runtime: Runtime) -> None:
    cache, gated, clock, client_id = await cache_for(runtime)
    gated.gate.set()
    before = await cache.get(client_id)
    await update_client(db=runtime.db, client_id=client_id, changes=ClientChanges({"protect_originals": True}))
    assert cache.cached(client_id) is before  # another process's change: seen within the cache time
    clock.now += 11
    after = await cache.get(client_id)
    assert after == ClientRules(protect_originals=True)
    assert cache.cached(client_id) is after


async def test_a_forget_during_a_read_is_not_undone_by_it(runtime: Runtime) -> None:
    cache, gated, _, client_id = await cache_for(runtime)
    reading = asyncio.ensure_future(cache.get(client_id))
    await settle()
    await update_client(db=runtime.db, client_id=client_id, changes=ClientChanges({"protect_originals": True}))
    cache.forget(client_id)  # what the admin route does after its change
    gated.gate.set()
    await reading
    # Whatever the read saw, it began before the change was announced: the next caller reads again.
    assert cache.cached(client_id) is None
    assert await cache.get(client_id) == ClientRules(protect_originals=True)
    assert gated.reads == 2


async def test_a_failed_read_lets_the_next_caller_try_again(runtime: Runtime) -> None:
    cache, gated, clock, client_id = await cache_for(runtime)
    gated.gate.set()
    first = await cache.get(client_id)
    clock.now += 11

    class Broken(Exception):
        pass

    @contextlib.asynccontextmanager
    async def failing() -> AsyncIterator[AsyncSession]:
        raise Broken
        yield  # pragma: no cover

    cache.db = cast(Database, type("Failing", (), {"reader": staticmethod(failing)})())
    with pytest.raises(Broken):
        await cache.get(client_id)
    assert cache.cached(client_id) is None  # no read under way: not kept past its time
    cache.db = cast(Database, gated)
    assert await cache.get(client_id) is first


async def absence_for(runtime: Runtime) -> tuple[KeyAbsence, GatedReads, ManualClock, str]:
    made = await create_client(db=runtime.db, name="keys")
    clock = ManualClock()
    return KeyAbsence(clock=clock), GatedReads(runtime.db), clock, made.client.id


async def read_keys(gated: GatedReads, absence: KeyAbsence, client_id: str) -> int:
    found = await keys_for(
        db=cast(Database, gated), server_secret="s" * 32, client_id=client_id, dialect="imgix", absence=absence
    )
    return len(found)


async def test_a_due_key_absence_is_checked_once_and_trusted_meanwhile(runtime: Runtime) -> None:
    absence, gated, clock, client_id = await absence_for(runtime)
    gated.gate.set()
    assert await read_keys(gated, absence, client_id) == 0
    assert absence.known(client_id, "imgix")
    assert gated.reads == 1

    clock.now += ABSENCE_SECONDS + 1
    assert not absence.known(client_id, "imgix")
    gated.gate.clear()
    callers = [asyncio.ensure_future(read_keys(gated, absence, client_id)) for _ in range(20)]
    await settle()
    assert gated.reads == 2  # one query for all twenty
    assert absence.known(client_id, "imgix")  # the warm path keeps trusting the absence meanwhile
    gated.gate.set()
    assert await asyncio.gather(*callers) == [0] * 20
    assert absence.known(client_id, "imgix")
    assert gated.reads == 2


async def test_a_key_added_during_the_check_is_not_hidden_by_it(runtime: Runtime) -> None:
    absence, gated, _, client_id = await absence_for(runtime)
    reading = asyncio.ensure_future(read_keys(gated, absence, client_id))
    await settle()
    absence.forget(client_id, "imgix")  # what add_key does in this process
    gated.gate.set()
    await reading
    assert not absence.known(client_id, "imgix")  # the next request reads the keys again
