"""The image page's parts from issue 15: responsive snippets (`<img srcset>`, `<picture>`) and the focal point."""

from __future__ import annotations

import html

import httpx
import pytest

from tests.support.images import make_jpeg
from tests.web.webhelpers import Browser

pytestmark = pytest.mark.anyio


async def test_copy_box_offers_srcset_and_picture(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(make_jpeg(700, 350), fields={"description": "Dunes"})
    page = html.unescape((await http.get(f"/images/{image['id']}")).text)
    url = f"http://testserver/v2/images/{image['id']}"
    ladder = f"{url}?w=320 320w, {url}?w=640 640w, {url}?w=700 700w"
    assert f'<img src="{url}" srcset="{ladder}" sizes="100vw" alt="Dunes">' in page
    assert f'<source type="image/avif" srcset="{url}?w=320&amp;format=avif 320w,' in page  # & escaped in HTML
    assert '<source type="image/webp"' in page
    assert "</picture>" in page
    for width in (320, 640):  # every URL of the srcset serves its width
        served = await http.get(f"/v2/images/{image['id']}", params={"w": width, "format": "avif"})
        assert served.status_code == 200


async def test_the_owner_sets_and_clears_the_focal_point(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(make_jpeg(400, 300))
    page = f"/images/{image['id']}"
    assert "None: cover crops keep the centre." in (await http.get(page)).text
    saved = await signed_in.post_form(f"{page}/focal", {"x": "0.2", "y": "0.7"})
    assert saved.status_code == 303
    info = await http.get(f"/v2/images/{image['id']}", params={"info": "true"})
    assert info.json()["focalPoint"] == {"x": 0.2, "y": 0.7}
    assert "0.20, 0.70" in (await http.get(page)).text
    refused = await signed_in.post_form(f"{page}/focal", {"x": "3", "y": "0.5"})
    assert refused.status_code == 400
    cleared = await signed_in.post_form(f"{page}/focal", {"clear": "1"})
    assert cleared.status_code == 303
    info = await http.get(f"/v2/images/{image['id']}", params={"info": "true"})
    assert info.json()["focalPoint"] is None
