"""The web app takes every input format and shows each tile's LQIP while the picture loads (issue 16)."""

from __future__ import annotations

import html

import httpx
import pytest

from tests.support import pillow_images as fixtures
from tests.support.images import assert_image
from tests.web.webhelpers import Browser

pytestmark = pytest.mark.anyio


async def test_grid_shows_the_lqip_under_a_heic_thumbnail(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(fixtures.make_heic(300, 200))
    assert image["format"] == "heic"
    lqip = image["placeholder"]["lqip"]
    assert lqip.startswith("data:image/webp;base64,")
    grid = await http.get("/images")
    assert f'<img class="lqip" src="{html.escape(lqip)}" alt="" aria-hidden="true">' in grid.text
    thumb = await http.get(f"/v2/images/{image['id']}?w=320&format=webp")
    assert_image(thumb.content, format="webp", width=300, height=200)


async def test_upload_page_offers_every_readable_format(signed_in: Browser, http: httpx.AsyncClient) -> None:
    page = await http.get("/upload")
    accept = page.text.split('accept="', 1)[1].split('"', 1)[0].split(",")
    for wanted in ("image/jpeg", "image/heic", ".heic", ".heif", "image/jxl", "image/tiff", ".tif", "image/bmp"):
        assert wanted in accept
