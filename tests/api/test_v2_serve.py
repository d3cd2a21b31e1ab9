"""Serving through v2: originals, variants, HTTP caching, privacy, fallback, single flight, back-pressure, views."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Variant
from pinhole.imaging.fallback import fallback_webp
from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(400, 300), user="alice")


async def test_original_is_served_with_caching_headers(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    response = await http.get(f"/v2/images/{photo['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert int(response.headers["content-length"]) == len(response.content) == photo["size"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"].startswith('"')
    assert not response.headers["etag"].startswith("W/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "vary" not in response.headers
    img.assert_image(response.content, format="jpeg", width=400, height=300)


@pytest.mark.parametrize(
    ("params", "fmt", "size"),
    [
        ({"w": 200}, "jpeg", (200, 150)),
        ({"h": 60}, "jpeg", (80, 60)),
        ({"w": 100, "h": 100}, "jpeg", (100, 75)),
        ({"w": 100, "h": 100, "fit": "cover"}, "jpeg", (100, 100)),
        ({"w": 100, "h": 40, "fit": "fill"}, "jpeg", (100, 40)),
        ({"w": 200, "format": "webp"}, "webp", (200, 150)),
        ({"w": 200, "format": "png"}, "png", (200, 150)),
        ({"w": 120, "format": "avif"}, "avif", (120, 90)),
        ({"w": 1600}, "jpeg", (400, 300)),
        ({"w": 800, "enlarge": "true"}, "jpeg", (800, 600)),
        ({"thumb": "true"}, "jpeg", (256, 256)),
        ({"format": "webp", "q": 40}, "webp", (400, 300)),
    ],
)
async def test_variants(
    http: httpx.AsyncClient, photo: dict[str, Any], params: dict[str, Any], fmt: str, size: tuple[int, int]
) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"image/{fmt}"
    img.assert_image(response.content, format=fmt, width=size[0], height=size[1])


async def test_variant_looks_like_the_original(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    original = (await http.get(f"/v2/images/{photo['id']}")).content
    variant = (await http.get(f"/v2/images/{photo['id']}", params={"w": 200, "format": "webp"})).content
    assert img.similarity(original, variant) > 0.9


async def test_alpha_to_jpeg_is_flattened_on_white(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await upload(http, tenant, img.make_png(60, 60, alpha=True))
    response = await http.get(f"/v2/images/{body['id']}", params={"format": "jpeg"})
    image = img.assert_image(response.content, format="jpeg", width=60, height=60)
    assert not image.hasalpha()


@pytest.mark.parametrize(
    ("maker", "fmt"),
    [(lambda: img.make_gif(60, 40, frames=4), "gif"), (lambda: img.make_webp(60, 40, frames=4), "webp")],
)
async def test_animation_survives_resizing(http: httpx.AsyncClient, tenant: ApiClient, maker: Any, fmt: str) -> None:
    body = await upload(http, tenant, maker())
    assert body["frames"] == 4
    for out in (fmt, "webp"):
        response = await http.get(f"/v2/images/{body['id']}", params={"w": 30, "format": out})
        img.assert_image(response.content, format=out, width=30, height=20, frames=4)


async def test_equivalent_urls_share_one_variant(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    first = await http.get(f"/v2/images/{photo['id']}", params={"w": 100, "format": "jpg", "t": "1"})
    second = await http.get(f"/v2/images/{photo['id']}", params={"format": "jpeg", "w": "100", "t": "2"})
    assert first.headers["etag"] == second.headers["etag"]
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Variant)) == 1
    assert runtime.variants.renders == 1


async def test_conditional_get_and_head(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    for params in ({}, {"w": 100}):
        url = f"/v2/images/{photo['id']}"
        full = await http.get(url, params=params)
        etag = full.headers["etag"]
        not_modified = await http.get(url, params=params, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        weak = await http.get(url, params=params, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        changed = await http.get(url, params=params, headers={"If-None-Match": '"something-else"'})
        assert changed.status_code == 200
        head = await http.head(url, params=params)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == full.headers["content-length"]
        assert head.headers["etag"] == etag


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"w": 0}, "w"),
        ({"w": "wide"}, "w"),
        ({"q": 101}, "q"),
        ({"format": "bmp"}, "format"),
        ({"fit": "squash"}, "fit"),
        ({"w": 100000}, "w"),
    ],
)
async def test_bad_transform_options_are_400(
    http: httpx.AsyncClient, photo: dict[str, Any], params: dict[str, Any], field: str
) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field


async def test_single_flight_renders_a_missing_variant_once(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    body = await upload(http, tenant, img.make_jpeg(1600, 1200))
    responses = await asyncio.gather(
        *(http.get(f"/v2/images/{body['id']}", params={"w": 300, "format": "webp"}) for _ in range(12))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.headers["etag"] for r in responses}) == 1
    assert runtime.variants.renders == 1


@pytest.mark.parametrize("settings_overrides", [{"imaging": {"threads": 1, "queue_size": 0}}])
async def test_full_worker_queue_answers_503_with_retry_after(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    release = threading.Event()
    blocker = asyncio.create_task(runtime.pool.run(release.wait, 10))
    while runtime.pool.admitted == 0:
        await asyncio.sleep(0.01)
    try:
        response = await http.get(f"/v2/images/{photo['id']}", params={"w": 50})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "overloaded"
    finally:
        release.set()
        await blocker
    assert (await http.get(f"/v2/images/{photo['id']}", params={"w": 50})).status_code == 200


async def test_views_are_counted_without_writing_per_request(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    for params in ({}, {"w": 100}, {"w": 100}):
        await http.get(f"/v2/images/{photo['id']}", params=params)
    await http.head(f"/v2/images/{photo['id']}")
    assert await runtime.usage.pending_views(photo["id"]) == 3
    await runtime.usage.flush()
    assert await runtime.usage.pending_views(photo["id"]) == 0
    info = await http.get(f"/v2/images/{photo['id']}", params={"info": "true"}, headers=tenant.headers("alice"))
    assert info.json()["views"] == 3


async def test_info_returns_metadata(http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params={"info": "true"}, headers=tenant.headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {**photo, "views": 0}


async def test_info_is_for_the_owning_tenant(
    http: httpx.AsyncClient, other_tenant: ApiClient, photo: dict[str, Any]
) -> None:
    for headers in ({}, other_tenant.headers()):
        response = await http.get(f"/v2/images/{photo['id']}", params={"info": "true"}, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "image_not_found"


@pytest.mark.parametrize("image_id", ["5b0c5e49-2f0d-4b9b-8c51-1f1d2d7e0a11", "not-a-uuid", "1; DROP TABLE images"])
async def test_missing_images_get_the_fallback(http: httpx.AsyncClient, tenant: ApiClient, image_id: str) -> None:
    response = await http.get(f"/v2/images/{image_id}")
    assert response.status_code == 200
    assert response.content == fallback_webp()
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "no-store"
    info = await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=tenant.headers())
    assert info.status_code == 404


async def test_a_vanished_variant_file_is_rendered_again(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    first = await http.get(f"/v2/images/{photo['id']}", params={"w": 120})
    for key in [key async for key in runtime.store.list_keys("variants/")]:
        await runtime.store.delete(key)  # e.g. pruned by another instance
    again = await http.get(f"/v2/images/{photo['id']}", params={"w": 120})
    assert again.status_code == 200
    img.assert_image(again.content, format="jpeg", width=120, height=90)
    assert img.similarity(first.content, again.content) > 0.99
    assert runtime.variants.renders == 2
