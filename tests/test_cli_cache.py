"""`pinhole cache stats` and `pinhole cache prune`, run as subprocesses against the database a live app filled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from typing import Any

import httpx
import pytest
from anyio import to_thread

from pinhole.runtime import Runtime
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.env import settings_env
from tests.support.variants import render_widths, touch_in_order, variants_by_width

pytestmark = pytest.mark.anyio

Completed = subprocess.CompletedProcess[str]


def _run_pinhole(settings: Settings, args: tuple[str, ...], env: dict[str, str]) -> Completed:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    env = clean | settings_env(settings) | env
    command = [sys.executable, "-m", "pinhole", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


async def pinhole(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Completed:
    return await to_thread.run_sync(partial(_run_pinhole, settings, args, env or {}))


async def pinhole_json(settings: Settings, *args: str) -> Any:
    result = await pinhole(settings, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
async def three(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> dict[int, Any]:
    """Three variants, width 10 the least and width 30 the most recently used."""
    photo = await upload(http, tenant, img.make_jpeg(300, 200), user="alice")
    await render_widths(http, photo, (10, 20, 30))
    return await touch_in_order(runtime, (10, 20, 30))


async def test_stats_and_prune_as_json(settings: Settings, runtime: Runtime, three: dict[int, Any]) -> None:
    total = sum(v.size for v in three.values())
    assert await pinhole_json(settings, "cache", "stats") == {
        "variants": 3,
        "remoteOriginals": 0,
        "bytes": total,
        "maxBytes": settings.variant_cache.max_bytes,
    }

    dry = await pinhole_json(settings, "cache", "prune", "--max-bytes", "0", "--dry-run")
    assert dry == {
        "evicted": 3,
        "bytesFreed": total,
        "bytesRemaining": 0,
        "maxBytes": 0,
        "targetBytes": 0,
        "dryRun": True,
    }
    assert sorted(await variants_by_width(runtime)) == [10, 20, 30]

    budget = three[30].size
    pruned = await pinhole_json(settings, "cache", "prune", "--max-bytes", str(budget))
    assert (pruned["evicted"], pruned["bytesFreed"], pruned["bytesRemaining"]) == (2, total - budget, budget)
    assert sorted(await variants_by_width(runtime)) == [30]
    assert [await runtime.store.stat(three[w].key) for w in (10, 20)] == [None, None]
    assert (await pinhole_json(settings, "cache", "stats"))["variants"] == 1


async def test_prune_uses_the_configured_budget_and_low_water_mark(
    settings: Settings, runtime: Runtime, three: dict[int, Any]
) -> None:
    total = sum(v.size for v in three.values())
    # A budget one byte short, with a low-water mark that leaves room for the newest variant only.
    percent = -(-three[30].size * 100 // (total - 1))  # rounded up, so the target still holds it
    env = {"PINHOLE_VARIANT_CACHE__MAX_BYTES": str(total - 1), "PINHOLE_VARIANT_CACHE__LOW_WATER_PERCENT": str(percent)}
    result = await pinhole(settings, "cache", "prune", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("evicted 2 variants")
    assert sorted(await variants_by_width(runtime)) == [30]


async def test_prune_without_a_budget_refuses(settings: Settings, three: dict[int, Any]) -> None:
    result = await pinhole(settings, "cache", "prune", env={"PINHOLE_VARIANT_CACHE__MAX_BYTES": "0"})
    assert result.returncode == 2
    assert "PINHOLE_VARIANT_CACHE__MAX_BYTES" in result.stderr
