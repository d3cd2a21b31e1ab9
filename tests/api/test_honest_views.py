"""Honest views (docs/web.md, "Views"): who asks decides whether a GET of an image is a view, the same in every API
(the shared delivery code asks `services.views`); v2 here, the web pages in tests/web/test_sharing_browser.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

OUR_IMAGE = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "image"}  # a thumbnail on one of our pages
OUR_LINK = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "document"}  # a link on our pages, followed
ELSEWHERE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}  # hotlinked by another site


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(400, 300), user="alice")


async def views_after(http: httpx.AsyncClient, runtime: Runtime, image_id: str, headers: dict[str, str]) -> int:
    for params in ({}, {"w": 100}):
        assert (await http.get(f"/v2/images/{image_id}", params=params, headers=headers)).status_code == 200
    return await runtime.usage.pending_views(image_id)


async def test_the_owners_requests_do_not_count(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    assert await views_after(http, runtime, photo["id"], tenant.headers("alice")) == 0  # the key acting for alice


async def test_other_peoples_requests_count(
    http: httpx.AsyncClient, photo: dict[str, Any], other_tenant: ApiClient, runtime: Runtime
) -> None:
    assert await views_after(http, runtime, photo["id"], {}) == 2  # signed out
    assert await views_after(http, runtime, photo["id"], other_tenant.headers("bob")) == 4
    assert await views_after(http, runtime, photo["id"], ELSEWHERE) == 6
    assert await views_after(http, runtime, photo["id"], OUR_LINK) == 8


async def test_images_our_own_pages_load_do_not_count(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    assert await views_after(http, runtime, photo["id"], OUR_IMAGE) == 0
    await http.head(f"/v2/images/{photo['id']}")
    assert await runtime.usage.pending_views(photo["id"]) == 0
