"""Issue 16 through v2: new input formats, what their originals and variants serve, and placeholders."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image as PillowImage
from sqlalchemy import update

from pinhole.db.models import Image
from pinhole.runtime import Runtime
from pinhole.services import placeholders
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support import pillow_images as fixtures

pytestmark = pytest.mark.anyio

W, H = 300, 200

FORMATS: list[tuple[str, Callable[[], bytes], str, str]] = [
    # (name, maker, stored format / mime, what an explicit-format-free w=200 variant is)
    ("heic", lambda: fixtures.make_heic(W, H, orientation=6), "image/heic", "jpeg"),
    ("jxl", lambda: fixtures.make_jxl(W, H), "image/jxl", "jpeg"),
    ("bmp", lambda: fixtures.make_bmp(W, H), "image/bmp", "jpeg"),
    ("tiff", lambda: fixtures.make_tiff(W, H, kind="rgba"), "image/tiff", "png"),
    ("jpeg", lambda: fixtures.make_mpo(W, H), "image/jpeg", "jpeg"),
    ("jpeg", lambda: fixtures.make_motion_photo(W, H), "image/jpeg", "jpeg"),
]


@pytest.mark.parametrize(("fmt", "maker", "mime", "variant_format"), FORMATS)
async def test_v2_takes_every_new_format(
    http: httpx.AsyncClient, tenant: ApiClient, fmt: str, maker: Any, mime: str, variant_format: str
) -> None:
    data = maker()
    body = await upload(http, tenant, data, filename="camera-file")
    assert (body["format"], body["mimeType"], body["width"], body["height"]) == (fmt, mime, W, H)
    placeholder = body["placeholder"]
    assert set(placeholder) == {"blurhash", "thumbhash", "color", "lqip"}
    assert placeholder["color"].startswith("#")

    original = await http.get(f"/v2/images/{body['id']}")
    assert original.status_code == 200
    assert original.headers["content-type"] == mime
    with PillowImage.open(io.BytesIO(original.content)) as kept:  # the original's own format, for download
        assert kept.size in ((W, H), (H, W))

    variant = await http.get(f"/v2/images/{body['id']}", params={"w": 200})
    assert variant.status_code == 200, variant.text
    img.assert_image(variant.content, format=variant_format, width=200, height=round(200 * H / W))
    assert img.similarity(variant.content, fixtures.reference_png(W, H)) > 0.85
    assert img.red_block_corner(variant.content) == "top-left"


async def test_explicit_format_is_answered(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await upload(http, tenant, fixtures.make_heic(W, H), filename="IMG_0001.HEIC")
    variant = await http.get(f"/v2/images/{body['id']}", params={"w": 100, "format": "webp"})
    img.assert_image(variant.content, format="webp", width=100, height=67)


async def test_placeholder_is_in_info_and_list(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await upload(http, tenant, img.make_jpeg(120, 80), user="alice")
    info = (await http.get(f"/v2/images/{body['id']}", params={"info": "true"}, headers=tenant.headers())).json()
    assert "placeholder" in info, info
    assert info["placeholder"] == body["placeholder"]
    listed = (await http.get("/v2/images", headers=tenant.headers("alice"))).json()["data"]
    assert [item["placeholder"] for item in listed] == [body["placeholder"]]


async def test_backfill_fills_images_stored_without_placeholders(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    first = await upload(http, tenant, img.make_jpeg(120, 80))
    second = await upload(http, tenant, fixtures.make_heic(W, H))
    async with runtime.db.writer() as session:
        await session.execute(update(Image).values(**placeholders.columns(None)))
    assert (await http.get(f"/v2/images/{first['id']}", params={"info": "true"}, headers=tenant.headers())).json()[
        "placeholder"
    ] is None
    assert await placeholders.missing_count(runtime.db) == 2

    advanced: list[int] = []
    result = await placeholders.backfill(
        db=runtime.db, store=runtime.store, pool=runtime.pool, batch=1, advance=advanced.append
    )
    assert (result.done, result.failed, sum(advanced)) == (2, 0, 2)
    assert await placeholders.missing_count(runtime.db) == 0
    for body in (first, second):
        runtime.recent.forget(body["id"])
        info = (await http.get(f"/v2/images/{body['id']}", params={"info": "true"}, headers=tenant.headers())).json()
        assert info["placeholder"] == body["placeholder"]
    again = await placeholders.backfill(db=runtime.db, store=runtime.store, pool=runtime.pool, advance=advanced.append)
    assert (again.done, again.failed) == (0, 0)


async def test_gif_frames_outside_the_canvas_are_taken(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    """Issue 17: a GIF whose frames reach outside its logical screen decodes in libvips, so it is accepted."""
    data = bytearray(img.make_gif(20, 20, frames=2))
    data[6:8] = (15).to_bytes(2, "little")  # logical screen narrower than the frames
    body = await upload(http, tenant, bytes(data), filename="odd.gif")
    assert body["format"] == "gif"
    variant = await http.get(f"/v2/images/{body['id']}", params={"w": 10})
    assert variant.status_code == 200, variant.text


@pytest.mark.parametrize(("asked", "kind"), [({}, "AVIF"), ({"format": "webp"}, "WEBP"), ({"format": "gif"}, "GIF")])
async def test_an_animated_avif_keeps_its_frames(
    http: httpx.AsyncClient, tenant: ApiClient, asked: dict[str, str], kind: str
) -> None:
    body = await upload(http, tenant, fixtures.make_animated_avif(W, H), filename="loop.avif")
    assert (body["format"], body["frames"], body["width"], body["height"]) == ("avif", 3, W, H)
    variant = await http.get(f"/v2/images/{body['id']}", params={"w": "200", **asked})
    assert variant.status_code == 200, variant.text
    with PillowImage.open(io.BytesIO(variant.content)) as image:
        assert (image.format, image.size, getattr(image, "n_frames", 1)) == (kind, (200, round(200 * H / W)), 3)


class Interrupted(Exception):
    """Stands for the backfill's process stopping (Ctrl-C, a crash) after its first image."""


async def test_an_interrupted_backfill_resumes_where_it_stopped(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    bodies = [await upload(http, tenant, img.make_jpeg(60 + index, 40)) for index in range(3)]
    async with runtime.db.writer() as session:
        await session.execute(update(Image).values(**placeholders.columns(None)))

    def stop(count: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await placeholders.backfill(db=runtime.db, store=runtime.store, pool=runtime.pool, batch=1, advance=stop)
    assert await placeholders.missing_count(runtime.db) == 2  # the first one was saved before the stop

    advanced: list[int] = []
    resumed = await placeholders.backfill(
        db=runtime.db, store=runtime.store, pool=runtime.pool, batch=1, advance=advanced.append
    )
    assert (resumed.done, resumed.failed, sum(advanced)) == (2, 0, 2)  # only the two still missing
    assert await placeholders.missing_count(runtime.db) == 0
    for body in bodies:
        runtime.recent.forget(body["id"])
        info = (await http.get(f"/v2/images/{body['id']}", params={"info": "true"}, headers=tenant.headers())).json()
        assert info["placeholder"] == body["placeholder"]
