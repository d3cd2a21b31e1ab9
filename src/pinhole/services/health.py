"""Readiness of what a request needs: the database and the blob store, each checked with a time limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pinhole.db.engine import Database
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    error: str | None = None


async def _check(name: str, probe: Callable[[], Awaitable[None]], limit: float) -> Check:
    try:
        await asyncio.wait_for(probe(), limit)
    except TimeoutError:
        log.warning("%s health check timed out after %.1f s", name, limit)
        return Check(name, ok=False, error=f"no answer within {limit:g} s")
    except Exception as exc:
        log.warning("%s health check failed: %s", name, exc)
        return Check(name, ok=False, error=type(exc).__name__)
    return Check(name, ok=True)


async def check_dependencies(*, db: Database, store: BlobStore, limit: float = 3.0) -> list[Check]:
    """Every dependency, checked concurrently; a failure is logged and reported, never raised."""
    return list(
        await asyncio.gather(
            _check("database", db.ping, limit),
            _check("storage", store.health_check, limit),
        )
    )
