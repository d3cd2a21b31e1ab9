"""Readiness of what a request needs: the database, the blob store and Redis when configured, each checked with a
time limit. Redis is not required: without it an instance serves on in-process state, and reporting it unready
would let an orchestrator take every instance out of service over a Redis outage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pinhole.db.engine import Database
from pinhole.shared.link import RedisLink
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    error: str | None = None
    required: bool = True  # False: a failure degrades the service but does not make it unready


async def _check(name: str, probe: Callable[[], Awaitable[None]], limit: float, *, required: bool = True) -> Check:
    try:
        await asyncio.wait_for(probe(), limit)
    except TimeoutError:
        log.warning("%s health check timed out after %.1f s", name, limit)
        return Check(name, ok=False, error=f"no answer within {limit:g} s", required=required)
    except Exception as exc:
        log.warning("%s health check failed: %s", name, exc)
        return Check(name, ok=False, error=type(exc).__name__, required=required)
    return Check(name, ok=True, required=required)


async def check_dependencies(
    *, db: Database, store: BlobStore, redis: RedisLink | None = None, limit: float = 3.0
) -> list[Check]:
    """Every dependency, checked concurrently; a failure is logged and reported, never raised."""
    checks = [_check("database", db.ping, limit), _check("storage", store.health_check, limit)]
    if redis is not None:
        checks.append(_check("redis", redis.ping, limit, required=False))
    return list(await asyncio.gather(*checks))
