"""Single flight across instances: one instance does a piece of work, the others wait for its result.
The lock, its lease and the polling waiters, and what happens without Redis: docs/deploy.md, "Redis"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis

from pinhole.shared.link import RedisLink, RedisUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

FIRST_PAUSE = 0.02
LONGEST_PAUSE = 0.5


class SharedFlight:
    """Run work once across the instances sharing a Redis; see the module docstring."""

    def __init__(self, link: RedisLink, *, lease: float, wait: float, clock: Callable[[], float] = time.monotonic):
        self._link = link
        self._lease_ms = max(1, round(lease * 1000))
        self._wait = wait
        self._clock = clock
        self._release = link.client.register_script(_RELEASE)
        self._renew = link.client.register_script(_RENEW)
        self.waits = 0  # times this process waited for another instance (observability, tests)
        self.takeovers = 0  # locks taken after waiting, e.g. once a dead holder's lease ran out

    async def run(self, name: str, *, lookup: Callable[[], Awaitable[T | None]], make: Callable[[], Awaitable[T]]) -> T:
        """`lookup()`'s result when some instance made it, else `make()`'s, made here under the lock `name`."""
        key = self._link.key("lock", name)
        deadline = self._clock() + self._wait
        pause = FIRST_PAUSE
        waited = False
        while True:
            try:
                token = await self._acquire(key)
            except RedisUnavailable:
                return await make()
            if token is not None:
                self.takeovers += waited
                return await self._holding(key, token, lookup, make)
            if not waited:
                waited = True
                self.waits += 1
            if self._clock() >= deadline:
                log.warning("waited %g s for another instance to finish %s; doing it here", self._wait, name)
                return await make()
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
            found = await lookup()
            if found is not None:
                return found

    async def _holding(
        self, key: str, token: str, lookup: Callable[[], Awaitable[T | None]], make: Callable[[], Awaitable[T]]
    ) -> T:
        renewer = asyncio.create_task(self._keep(key, token))
        try:
            # Looked up again under the lock: the previous holder may have finished just before we took it.
            found = await lookup()
            return found if found is not None else await make()
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._call_quietly(self._release, key, token)

    async def _acquire(self, key: str) -> str | None:
        token = secrets.token_hex(16)

        async def run(client: Redis) -> Any:
            return await client.set(key, token, nx=True, px=self._lease_ms)

        return token if await self._link.call(run) else None

    async def _keep(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            await self._call_quietly(self._renew, key, token, self._lease_ms)

    async def _call_quietly(self, script: Any, key: str, *args: Any) -> None:
        async def run(client: Redis) -> Any:
            return await script(keys=[key], args=list(args), client=client)

        with contextlib.suppress(RedisUnavailable):
            await self._link.call(run)
