"""`/healthz` and `/readyz`: liveness without I/O, readiness naming the dependency that fails."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pinhole.db.engine import Database
from pinhole.runtime import Runtime
from pinhole.services import health
from pinhole.storage.local import LocalBlobStore

pytestmark = pytest.mark.anyio


async def test_healthz_answers_without_touching_anything(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def _redis_ok(runtime: Runtime) -> dict[str, str]:
    """Redis is checked too where it is configured (the scaled test stack)."""
    return {"redis": "ok"} if runtime.settings.redis.url is not None else {}


async def test_readyz_is_ready_when_database_and_storage_answer(http: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok"} | _redis_ok(runtime)}


def _broken_store(tmp_path: Path) -> LocalBlobStore:
    """A real local store whose folder was replaced by a file after it started."""
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    shutil.rmtree(root)
    root.write_text("not a folder")
    return store


async def test_readyz_names_a_failing_store(
    http: httpx.AsyncClient, app: FastAPI, runtime: Runtime, tmp_path: Path
) -> None:
    app.state.runtime = dataclasses.replace(runtime, store=_broken_store(tmp_path))
    try:
        response = await http.get("/readyz")
        status = await http.get("/v2/status")
    finally:
        app.state.runtime = runtime
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"].startswith("unavailable: ")
    assert status.json()["storage"] == "unavailable"
    assert status.json()["status"] == "degraded"


async def test_readyz_names_a_failing_database(
    http: httpx.AsyncClient, app: FastAPI, runtime: Runtime, tmp_path: Path
) -> None:
    unreachable = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}")
    app.state.runtime = dataclasses.replace(runtime, db=unreachable)
    try:
        response = await http.get("/readyz")
    finally:
        app.state.runtime = runtime
        await unreachable.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "unavailable: OperationalError",
        "storage": "ok",
    } | _redis_ok(runtime)


async def test_a_check_that_hangs_is_reported_after_its_time_limit() -> None:
    async def hang() -> None:
        await asyncio.sleep(3600)

    found = await health._check("storage", hang, limit=0.05)
    assert found == health.Check("storage", ok=False, error="no answer within 0.05 s")
