"""Redis-backed counters for rate limits and sign-in back-off, shared by every instance.

Each operation is one Lua script, so it is atomic across instances. Expiry is relative (`PEXPIRE`), so a clock
difference between an instance and Redis only shifts the `reset` the headers state, never how long a key lives.
While Redis is unavailable each store counts in its own in-process store (limits then hold per process, as
without Redis); counts made then are not merged back.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from pinhole.security.backoff import Attempts, MemoryAttemptStore
from pinhole.security.ratelimit import MemoryRateLimitStore, Window
from pinhole.shared.link import RedisLink, RedisUnavailable

# KEYS[1] window; ARGV: reset_at (epoch s), window (ms). A window opens at its first hit, as in the memory store.
_HIT = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then
  redis.call('HSET', KEYS[1], 'reset', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {n, ARGV[1]}
end
return {n, redis.call('HGET', KEYS[1], 'reset')}
"""

# KEYS[1] counter; ARGV: now (epoch s), ttl (ms).
_ADD = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {n, ARGV[1]}
"""

_REFUND = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n <= 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _pair(raw: Any) -> tuple[int, float] | None:
    """An (n, time) pair from a script reply or an HMGET; None when the key was missing."""
    count, when = raw
    if count is None or when is None:
        return None
    return int(count), float(when)


class RedisRateLimitStore:
    """Rate-limit windows in Redis (one hash per key: `n`, `reset`); falls back to `MemoryRateLimitStore`."""

    def __init__(self, link: RedisLink, fallback: MemoryRateLimitStore | None = None) -> None:
        self._link = link
        self._hit = link.client.register_script(_HIT)
        self.fallback = fallback or MemoryRateLimitStore()

    async def hit(self, key: str, *, window_seconds: float, now: float) -> Window:
        reset_at = repr(now + window_seconds)

        async def run(client: Redis) -> Any:
            return await self._hit(keys=[self._link.key(key)], args=[reset_at, _ms(window_seconds)], client=client)

        try:
            pair = _pair(await self._link.call(run))
        except RedisUnavailable:
            return await self.fallback.hit(key, window_seconds=window_seconds, now=now)
        assert pair is not None
        return Window(*pair)

    async def peek(self, key: str, *, now: float) -> Window | None:
        async def run(client: Redis) -> Any:
            return await client.hmget(self._link.key(key), ["n", "reset"])

        try:
            pair = _pair(await self._link.call(run))
        except RedisUnavailable:
            return await self.fallback.peek(key, now=now)
        return None if pair is None or pair[1] <= now else Window(*pair)


class RedisAttemptStore:
    """Sign-in attempt counters in Redis (one hash per key: `n`, `last`); falls back to `MemoryAttemptStore`."""

    def __init__(self, link: RedisLink, fallback: MemoryAttemptStore | None = None) -> None:
        self._link = link
        self._add = link.client.register_script(_ADD)
        self._refund = link.client.register_script(_REFUND)
        self.fallback = fallback or MemoryAttemptStore()

    async def get(self, key: str, *, now: float) -> Attempts | None:
        async def run(client: Redis) -> Any:
            return await client.hmget(self._link.key(key), ["n", "last"])

        try:
            pair = _pair(await self._link.call(run))
        except RedisUnavailable:
            return await self.fallback.get(key, now=now)
        return None if pair is None else Attempts(*pair)

    async def add(self, key: str, *, now: float, ttl: float) -> Attempts:
        async def run(client: Redis) -> Any:
            return await self._add(keys=[self._link.key(key)], args=[repr(now), _ms(ttl)], client=client)

        try:
            pair = _pair(await self._link.call(run))
        except RedisUnavailable:
            return await self.fallback.add(key, now=now, ttl=ttl)
        assert pair is not None
        return Attempts(*pair)

    async def refund(self, key: str, *, now: float) -> None:
        async def run(client: Redis) -> Any:
            return await self._refund(keys=[self._link.key(key)], args=[], client=client)

        try:
            await self._link.call(run)
        except RedisUnavailable:
            await self.fallback.refund(key, now=now)

    async def clear(self, key: str) -> None:
        async def run(client: Redis) -> Any:
            return await client.delete(self._link.key(key))

        try:
            await self._link.call(run)
        except RedisUnavailable:
            await self.fallback.clear(key)
