"""Variant cache upkeep: LRU pruning to a budget, the background pruner, and forgetting deleted originals' variants.

Access times are written directly (no sleeps): `touch_in_order` makes the given widths' variants oldest first.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select, update

from pinhole.db.models import Image, Variant, utcnow
from pinhole.runtime import Runtime
from pinhole.services import variant_cache
from pinhole.services.variant_cache import CacheStats, cache_stats, prune_variants
from pinhole.storage.keys import original_key
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.variants import render_widths, touch_in_order, variants_by_width

pytestmark = pytest.mark.anyio

WIDTHS = (10, 20, 30, 40, 50, 60)
OLDEST_FIRST = (40, 10, 60, 20, 50, 30)


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(300, 200), user="alice")


@pytest.fixture
async def six(http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any]) -> dict[int, Variant]:
    """Six variants of one photo, accessed in the order OLDEST_FIRST."""
    await render_widths(http, photo, WIDTHS)
    return await touch_in_order(runtime, OLDEST_FIRST)


def size_of(variants: dict[int, Variant], widths: tuple[int, ...]) -> int:
    return sum(variants[w].size for w in widths)


async def stored(runtime: Runtime, variant: Variant) -> bool:
    return await runtime.store.stat(variant.key) is not None


@pytest.mark.parametrize("batch_size", [1, 2, 500])
async def test_prune_evicts_the_least_recently_used_first(
    runtime: Runtime, six: dict[int, Variant], batch_size: int
) -> None:
    newest = OLDEST_FIRST[3:]
    budget = size_of(six, newest)
    result = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=budget, batch_size=batch_size)
    assert (result.evicted, result.bytes_freed, result.bytes_remaining) == (3, size_of(six, OLDEST_FIRST[:3]), budget)
    assert sorted(await variants_by_width(runtime)) == sorted(newest)
    for width, variant in six.items():
        assert await stored(runtime, variant) is (width in newest), width


async def test_prune_evicts_only_as_many_as_the_budget_needs(runtime: Runtime, six: dict[int, Variant]) -> None:
    total = size_of(six, WIDTHS)
    result = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=total - 1)
    assert (result.evicted, result.bytes_remaining) == (1, total - six[OLDEST_FIRST[0]].size)
    assert sorted(await variants_by_width(runtime)) == sorted(OLDEST_FIRST[1:])


async def test_prune_goes_down_to_the_target_once_over_the_budget(runtime: Runtime, six: dict[int, Variant]) -> None:
    total, target = size_of(six, WIDTHS), size_of(six, OLDEST_FIRST[4:])
    within = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=total, target_bytes=target)
    assert (within.evicted, within.bytes_remaining) == (0, total)  # at the budget: nothing to do yet
    over = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=total - 1, target_bytes=target)
    assert (over.evicted, over.bytes_remaining) == (4, target)
    assert sorted(await variants_by_width(runtime)) == sorted(OLDEST_FIRST[4:])


async def test_prune_to_zero_empties_the_cache(runtime: Runtime, six: dict[int, Variant]) -> None:
    result = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=0, batch_size=4)
    assert (result.evicted, result.bytes_freed, result.bytes_remaining) == (6, size_of(six, WIDTHS), 0)
    assert await cache_stats(db=runtime.db) == CacheStats(variants=0, bytes=0)
    assert [k async for k in runtime.store.list_keys("variants/")] == []


async def test_dry_run_reports_the_same_and_changes_nothing(runtime: Runtime, six: dict[int, Variant]) -> None:
    budget = size_of(six, OLDEST_FIRST[2:])
    dry = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=budget, dry_run=True, batch_size=1)
    assert dry.dry_run
    assert (dry.evicted, dry.bytes_remaining) == (2, budget)
    assert sorted(await variants_by_width(runtime)) == sorted(WIDTHS)
    assert all([await stored(runtime, v) for v in six.values()])
    real = await prune_variants(db=runtime.db, store=runtime.store, max_bytes=budget)
    assert (real.evicted, real.bytes_freed, real.bytes_remaining) == (dry.evicted, dry.bytes_freed, dry.bytes_remaining)


async def test_a_variant_served_after_the_prune_read_it_is_kept(runtime: Runtime, six: dict[int, Variant]) -> None:
    coldest = await variant_cache._coldest(runtime.db, after=None, limit=2)
    assert [row.id for row in coldest] == [six[w].id for w in OLDEST_FIRST[:2]]
    async with runtime.db.writer() as session:  # served (and flushed) between the read and the delete
        await session.execute(update(Variant).where(Variant.id == coldest[1].id).values(last_accessed_at=utcnow()))
    gone = await variant_cache._evict(runtime.db, runtime.store, coldest, None)
    assert [row.id for row in gone] == [coldest[0].id]
    assert await stored(runtime, six[OLDEST_FIRST[1]])
    assert not await stored(runtime, six[OLDEST_FIRST[0]])


async def test_stats_count_variants_and_bytes(runtime: Runtime, six: dict[int, Variant]) -> None:
    stats = await cache_stats(db=runtime.db)
    assert (stats.variants, stats.bytes) == (6, size_of(six, WIDTHS))


@pytest.mark.parametrize("credentials", [False, True], ids=["fast-path", "route"])
async def test_a_variant_pruned_by_another_process_is_served_right(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, photo: dict[str, Any], credentials: bool
) -> None:
    url = f"/v2/images/{photo['id']}"
    for _ in range(3):  # the route, then the fast path loading and hitting its memory cache
        assert (await http.get(url, params={"w": 60})).status_code == 200
    # No `forget`: like `pinhole cache prune`, this process's memory still knows the variant.
    assert (await prune_variants(db=runtime.db, store=runtime.store, max_bytes=0)).evicted == 1
    assert len(runtime.variants.known) == 1
    renders = runtime.variants.renders
    response = await http.get(url, params={"w": 60}, headers=tenant.headers("alice") if credentials else {})
    assert response.status_code == 200
    img.assert_image(response.content, format="jpeg", width=60, height=40)
    if credentials:  # the route finds the file gone, forgets the variant and renders it again
        assert runtime.variants.renders == renders + 1
        assert len(await variants_by_width(runtime)) == 1
        assert await stored(runtime, (await variants_by_width(runtime))[60])


@pytest.mark.parametrize("settings_overrides", [{"variant_cache": {"max_bytes": 1, "low_water_percent": 100}}])
async def test_the_pruner_forgets_what_it_evicts_so_the_next_request_renders_again(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    for _ in range(3):
        assert (await http.get(url, params={"w": 60})).status_code == 200
    assert runtime.hot.items
    assert runtime.variants.known
    result = await runtime.pruner.prune_once()
    assert result.evicted == 1
    assert runtime.variants.known == {}
    assert [key for key, _ in runtime.hot.items if key.startswith("variants/")] == []
    renders = runtime.variants.renders
    response = await http.get(url, params={"w": 60})
    assert response.status_code == 200
    img.assert_image(response.content, format="jpeg", width=60, height=40)
    assert runtime.variants.renders == renders + 1


@pytest.mark.parametrize(
    "settings_overrides",
    [{"variant_cache": {"max_bytes": 1, "low_water_percent": 100, "prune_interval_seconds": 0.01}}],
)
async def test_the_background_pruner_runs_when_enabled(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any]
) -> None:
    assert runtime.pruner.enabled
    await render_widths(http, photo, (10, 20))
    done = runtime.pruner.passes
    with anyio.fail_after(30):  # a safety net, not a timing assertion: passes come every 10 ms
        while runtime.pruner.passes < done + 2:  # one more pass started after the renders, and finished
            await anyio.sleep(0.01)
    assert (await cache_stats(db=runtime.db)).variants == 0
    assert [k async for k in runtime.store.list_keys("variants/")] == []


@pytest.mark.parametrize(("max_bytes", "interval", "enabled"), [(1, 600, True), (0, 600, False), (1, 0, False)])
async def test_the_background_pruner_needs_a_budget_and_an_interval(
    runtime: Runtime, max_bytes: int, interval: float, enabled: bool
) -> None:
    assert runtime.pruner.enabled  # on by default: a 10 GiB budget, every 10 minutes
    assert dataclasses.replace(runtime.pruner, max_bytes=max_bytes, interval=interval).enabled is enabled


async def test_the_background_pruner_stops_at_once_when_asked(runtime: Runtime) -> None:
    pruner = dataclasses.replace(runtime.pruner, max_bytes=1, target_bytes=0, interval=3600, _stopping=asyncio.Event())
    task = asyncio.create_task(pruner.run())
    await anyio.sleep(0)
    pruner.stop()
    with anyio.fail_after(30):
        await task  # returns without waiting out the hour
    assert pruner.passes == 0


async def test_deleting_the_last_image_forgets_its_variants_in_this_process(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    for _ in range(3):
        assert (await http.get(url, params={"w": 60})).status_code == 200
    content_hash = next(iter(runtime.variants.known))[0]
    deleted = await http.delete(url, headers=tenant.headers("alice"))
    assert deleted.status_code == 204
    assert [k for k in runtime.variants.known if k[0] == content_hash] == []
    assert [key for key, _ in runtime.hot.items if content_hash in key] == []
    assert await runtime.store.stat(original_key(content_hash)) is None

    other = await upload(http, tenant, img.make_png(90, 90), user="alice")
    response = await http.get(f"/v2/images/{other['id']}", params={"w": 60, "format": "jpeg"})
    img.assert_image(response.content, format="jpeg", width=60, height=60)

    again = await upload(http, tenant, img.make_jpeg(300, 200), user="alice")  # the same bytes as before
    for _ in range(3):
        response = await http.get(f"/v2/images/{again['id']}", params={"w": 60})
        img.assert_image(response.content, format="jpeg", width=60, height=40)
    variant = (await variants_by_width(runtime))[60]
    assert await stored(runtime, variant)


async def test_deleting_one_of_two_images_sharing_content_keeps_the_variants(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    twin = await upload(http, tenant, img.make_jpeg(300, 200), user="alice")
    assert (await http.get(f"/v2/images/{photo['id']}", params={"w": 60})).status_code == 200
    assert (await http.delete(f"/v2/images/{photo['id']}", headers=tenant.headers("alice"))).status_code == 204
    assert len(runtime.variants.known) == 1
    renders = runtime.variants.renders
    response = await http.get(f"/v2/images/{twin['id']}", params={"w": 60})
    img.assert_image(response.content, format="jpeg", width=60, height=40)
    assert runtime.variants.renders == renders
    assert await stored(runtime, (await variants_by_width(runtime))[60])


async def test_a_large_original_gets_an_intermediate_at_its_second_render(
    runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    """The first render of an original starts from it; the second makes its 2048-px intermediate (a variant row like
    the others, so the cache budget and pruning cover it), and small variants start from that."""
    from pinhole.imaging.intermediate import CANONICAL

    image_id = (await upload(http, tenant, img.make_jpeg(3200, 2400, exif=False)))["id"]

    async def intermediates() -> int:
        async with runtime.db.reader() as session:
            return len(list(await session.scalars(select(Variant).where(Variant.canonical == CANONICAL))))

    sizes = []
    for width in (800, 600, 400):
        response = await http.get(f"/v2/images/{image_id}", params={"w": width})
        assert response.status_code == 200
        image = img.open_image(response.content)
        sizes.append((image.width, image.height))
        assert await intermediates() == (0 if width == 800 else 1)
    assert sizes == [(800, 600), (600, 450), (400, 300)]


# Without Redis: with it the row is written before the answer, since other instances wait on the lock for it.
@pytest.mark.parametrize("settings_overrides", [{"redis": {"url": None}}])
async def test_a_new_variant_is_answered_from_memory_until_it_is_stored(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = asyncio.Event()
    put_bytes = runtime.store.put_bytes

    async def held_put(key: str, data: bytes) -> None:
        await stored.wait()
        await put_bytes(key, data)

    monkeypatch.setattr(runtime.store, "put_bytes", held_put)
    renders = runtime.variants.renders
    url = f"/v2/images/{photo['id']}"
    first = asyncio.create_task(http.get(url, params={"w": 70}))
    with anyio.fail_after(30):
        while not runtime.variants.pending:  # rendered and answered; its write is held
            await asyncio.sleep(0.01)
    (pending,) = runtime.variants.pending.values()
    assert pending.data is not None
    assert pending.id == 0
    assert await variants_by_width(runtime) == {}  # not on record yet
    second = asyncio.create_task(http.get(url, params={"w": 70}))
    await asyncio.sleep(0.05)
    stored.set()
    answers = await asyncio.gather(first, second)
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content == pending.data
    assert runtime.variants.renders == renders + 1  # the second was served from memory, not rendered again
    assert runtime.variants.pending == {}
    recorded = await variants_by_width(runtime)
    assert set(recorded) == {70}
    assert recorded[70].etag == pending.etag
    assert runtime.variants.known[pending.cache_key].id == recorded[70].id


async def original_of(runtime: Runtime, image_id: str) -> str:
    """The store key of an image's original."""
    async with runtime.db.reader() as session:
        content_hash = await session.scalar(select(Image.content_hash).where(Image.id == image_id))
    assert content_hash is not None
    return original_key(content_hash)


@pytest.mark.parametrize("in_place_from", [0, 1 << 40])
async def test_a_large_local_original_is_read_in_place_and_others_as_bytes(
    runtime: Runtime,
    http: httpx.AsyncClient,
    photo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    in_place_from: int,
) -> None:
    """From `READ_IN_PLACE_FROM` up, an original on local disk is read by libvips in blocks (never held whole);
    smaller ones, and a remote store's (the scaled stack's S3), are read into bytes. The answers are the same."""
    from pinhole.services import variants

    monkeypatch.setattr(variants, "READ_IN_PLACE_FROM", in_place_from)
    key = await original_of(runtime, photo["id"])
    read: list[str] = []
    get_bytes = runtime.store.get_bytes

    async def counting(wanted: str) -> bytes:
        read.append(wanted)
        return await get_bytes(wanted)

    monkeypatch.setattr(runtime.store, "get_bytes", counting)
    for width in (120, 90):  # the first render, then one with the intermediate step considered
        response = await http.get(f"/v2/images/{photo['id']}", params={"w": width})
        assert response.status_code == 200
        img.assert_image(response.content, format="jpeg", width=width, height=width * 2 // 3)
    in_place = runtime.store.local_path(key) is not None and in_place_from == 0
    assert read.count(key) == (0 if in_place else 2)


async def test_an_original_gone_from_disk_during_its_render_is_answered_as_gone(
    runtime: Runtime, http: httpx.AsyncClient, photo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted between the size check and libvips' read (its image deleted meanwhile): answered as an image that
    went while this process held its record (the fallback picture), not as a damaged image (422) or a 500."""
    from pinhole.services import variants

    if runtime.store.local_path(await original_of(runtime, photo["id"])) is None:
        pytest.skip("only the local store's originals are read in place (the embedded stack)")
    monkeypatch.setattr(variants, "READ_IN_PLACE_FROM", 0)
    real_render = variants.render  # type: ignore[attr-defined]

    def render_after_delete(source: Any, **kwargs: Any) -> Any:
        assert isinstance(source, Path)
        source.unlink()
        return real_render(source, **kwargs)

    monkeypatch.setattr(variants, "render", render_after_delete)
    response = await http.get(f"/v2/images/{photo['id']}", params={"w": 130})
    assert response.status_code == 200
    assert response.headers["x-pinhole-fallback"] == "1"
    assert response.headers["cache-control"] == "no-store"
