"""The process's Redis connection, and how its outages are handled.

Every use of Redis goes through `RedisLink.call`. When a command fails for want of Redis (refused, reset, timed
out, loading, read-only...), the link logs one warning for the outage, raises `RedisUnavailable`, and for
`cooldown` seconds answers every call with `RedisUnavailable` at once, without trying. Callers catch it and use
their in-process state instead, so a request never fails, nor waits on timeouts, because Redis is down. After the
cool-down the next call tries Redis again; the first success logs that Redis is back (once per outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from pinhole.observability.tracing import span
from pinhole.settings import RedisSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis did not answer (or is in its cool-down after failing): use the in-process fallback."""


class RedisLink:
    """A client, the key prefix, and the outage state. Build with `from_settings`; close with `aclose`."""

    def __init__(
        self, client: Redis, *, prefix: str, cooldown: float, where: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.cooldown = cooldown
        self.where = where  # host:port/db, for log lines (never the password)
        self._clock = clock
        self._down_until = 0.0
        self._outage = False
        self.outages = 0  # outages seen by this process (observability, and how tests see the one warning)
        self.fallbacks = 0  # calls answered with RedisUnavailable, so callers used in-process state (metrics)

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> RedisLink | None:
        if settings.url is None:
            return None
        client = Redis.from_url(
            settings.url.get_secret_value(),
            socket_connect_timeout=settings.connect_timeout_seconds,
            socket_timeout=settings.operation_timeout_seconds,
            max_connections=settings.max_connections,
            # No retries: a failure falls back to in-process state at once, and the cool-down paces new attempts.
            retry=Retry(NoBackoff(), 0),
        )
        kwargs = client.connection_pool.connection_kwargs
        where = f"{kwargs.get('host', kwargs.get('path', '?'))}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}"
        return cls(client, prefix=settings.key_prefix, cooldown=settings.cooldown_seconds, where=where)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def degraded(self) -> bool:
        """In an outage: the last call failed and no call has succeeded since."""
        return self._outage

    @property
    def available(self) -> bool:
        """False while in the cool-down after a failure (calls would raise RedisUnavailable without trying)."""
        return self._clock() >= self._down_until

    async def call(self, operation: Callable[[Redis], Awaitable[T]]) -> T:
        """Run `operation` on the client; RedisUnavailable when Redis fails or is cooling down after a failure."""
        if not self.available:
            self.fallbacks += 1
            raise RedisUnavailable()
        try:
            with span("redis"):
                result = await operation(self.client)
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(exc)
            self.fallbacks += 1
            raise RedisUnavailable() from exc
        if self._outage:
            self._outage = False
            log.warning("redis at %s answers again: shared state is back in use", self.where)
        return result

    async def ping(self) -> None:
        """For readiness: raises when Redis does not answer (tries even during a cool-down)."""
        await self.client.ping()

    def _failed(self, exc: BaseException) -> None:
        self._down_until = self._clock() + self.cooldown
        if self._outage:
            return
        self._outage = True
        self.outages += 1
        log.warning(
            "redis at %s is unreachable (%s: %s): using in-process state (rate limits, back-off, view counts, "
            "render locks, record cache) per process, trying again every %g s",
            self.where,
            type(exc).__name__,
            exc,
            self.cooldown,
        )

    async def aclose(self) -> None:
        await self.client.aclose()
