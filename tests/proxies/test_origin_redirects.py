"""Redirects of a remote origin stay under the allowlist: an allowed origin that answers 302 to a URL outside
`proxy.allowed_sources` is refused, through each dialect as that dialect refuses a source outside it, before the
target is asked; a redirect inside the allowlist is followed. Uploads from a URL (no allowlist) still follow
redirects anywhere the fetcher accepts. A real origin on loopback (private networks allowed by the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop
from tests.dialects.test_remote_sources import cloudinary_fetch_url, imgix_url, imgproxy_url, mounts, thumbor_url
from tests.proxies.test_remote_origins import origin_rows
from tests.support.photo_origin import PhotoOrigin, landscape, run_photo_origin

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def origin() -> Iterator[PhotoOrigin]:
    with run_photo_origin() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_origin(origin: PhotoOrigin) -> None:
    origin.state.moved = "/photos/"
    origin.state.hits.clear()


@pytest.fixture
def settings_overrides(origin: PhotoOrigin) -> dict[str, Any]:
    return {
        "fetch": {"allow_private_networks": True},
        "proxy": {"allowed_sources": [f"{origin.base}/photos/", f"{origin.base}/moved/"]},
        "dialects": mounts(),
    }


DIALECT_URLS: list[Any] = [
    pytest.param(lambda url: thumbor_url(width=200, height=300, image_url=url), id="thumbor"),
    pytest.param(lambda url: imgproxy_url(f"/rs:fill:200:300/plain/{url}"), id="imgproxy"),
    pytest.param(lambda url: imgix_url(url, {"w": 200, "h": 300, "fit": "crop"}), id="imgix"),
    pytest.param(lambda url: cloudinary_fetch_url(url, width=200, height=300, crop="fill"), id="cloudinary"),
]


def outside(origin: PhotoOrigin) -> list[str]:
    """Where an allowed origin might redirect that the allowlist does not allow: another path of the same
    server (relative and absolute), and the very same photo under another name of the host."""
    return ["/other/", f"{origin.base}/other/", f"{origin.base}/photosx/", f"http://localhost:{origin.port}/photos/"]


def shape(response: httpx.Response) -> tuple[int, str, bool]:
    """What tells one dialect's refusals apart: status, body type, and Cloudinary's reason header."""
    return response.status_code, response.headers.get("content-type", ""), "x-cld-error" in response.headers


@pytest.mark.parametrize("make", DIALECT_URLS)
async def test_a_redirect_outside_the_allowlist_is_refused_as_the_dialect_refuses_the_source(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, make: Callable[[str], str]
) -> None:
    direct = await http.get(make(origin.url("/other/a.jpg")))  # the dialect's answer to a source outside
    assert direct.status_code in (400, 403, 404)
    for target in outside(origin):
        origin.state.moved = target
        response = await http.get(make(origin.url("/moved/a.jpg")))
        assert shape(response) == shape(direct), (target, response.status_code, response.text)
        assert "redirects outside the allowed prefixes" in response.text + response.headers.get("x-cld-error", "")
    assert origin.state.hits["/moved/a.jpg"] == len(outside(origin))
    assert sum(origin.state.hits.values()) == len(outside(origin))  # no redirect target was asked
    assert await origin_rows(runtime) == []


@pytest.mark.parametrize("make", DIALECT_URLS)
async def test_a_redirect_inside_the_allowlist_is_followed(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, make: Callable[[str], str]
) -> None:
    origin.state.moved = f"{origin.base}/photos/"
    assert_centre_crop(await http.get(make(origin.url("/moved/b.jpg"))), landscape(1), 200, 300)
    assert (origin.state.hits["/moved/b.jpg"], origin.state.hits["/photos/b.jpg"]) == (1, 1)
    assert [row.url for row in await origin_rows(runtime)] == [origin.url("/moved/b.jpg")]  # kept under its name


async def test_redirects_keep_their_limit_and_are_judged_resolved(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    origin.state.moved = "/moved/"  # /moved/c.jpg redirects to itself: every hop allowed, until the limit
    response = await http.get(imgproxy_url(f"/rs:fill:20:30/plain/{origin.url('/moved/c.jpg')}"))
    assert response.status_code == 404  # imgproxy's answer: more redirects than the fetcher follows
    assert "redirects more than 3 times" in response.text
    assert origin.state.hits["/moved/c.jpg"] == 4
    origin.state.moved = "/moved/../other/"  # resolved by the fetcher before the allowlist judges it
    response = await http.get(imgproxy_url(f"/rs:fill:20:30/plain/{origin.url('/moved/c.jpg')}"))
    assert (response.status_code, "redirects outside" in response.text) == (404, True)
    assert origin.state.hits["/other/c.jpg"] == 0


async def test_uploads_from_a_url_still_follow_redirects_outside_the_proxy_allowlist(
    http: httpx.AsyncClient, origin: PhotoOrigin, tenant: ApiClient
) -> None:
    origin.state.moved = f"http://localhost:{origin.port}/photos/"  # outside the proxy allowlist
    body = {"url": origin.url("/moved/up.jpg")}
    response = await http.post("/v2/images", headers=tenant.headers("alice"), json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (800, 600)
    assert origin.state.hits["/photos/up.jpg"] == 1
