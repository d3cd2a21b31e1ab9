"""imgix URLs made by the imgix Python URL builder (with a sign key) against the real app, over hosted images."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from imgix import UrlBuilder

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop, hosted, loader, picture

pytestmark = pytest.mark.anyio

TOKEN = "imgix-secure-url-token"
HOST = "https://photos.example.imgix.net"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"dialects": {"imgix": {"enabled": True, "token": TOKEN}}}


def imgix_url(image_id: str, params: dict[str, Any], token: str = TOKEN) -> str:
    """What the site's templates make today, with only the base URL changed to pinhole's `/imgix`."""
    built = str(UrlBuilder("photos.example.imgix.net", sign_key=token).create_url(f"/{image_id}", params))
    assert built.startswith(HOST)
    return "/imgix" + built.removeprefix(HOST)


async def test_fit_crop_gives_the_centre_crop(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, original = await hosted(http, tenant)
    response = await http.get(imgix_url(image_id, {"w": 200, "h": 300, "fit": "crop"}))
    assert_centre_crop(response, original, 200, 300)


async def test_fits_sizes_and_dpr(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    cases: list[tuple[dict[str, Any], tuple[int, int]]] = [
        ({"w": 300, "h": 300}, (300, 225)),  # clip, the default
        ({"w": 300, "h": 300, "fit": "scale"}, (300, 300)),
        ({"w": 1600, "fit": "max"}, (800, 600)),
        ({"w": 1600}, (1600, 1200)),
        ({"w": 150, "dpr": 2}, (300, 225)),
        ({"w": 0.5}, (400, 300)),
    ]
    for params, size in cases:
        shown = picture(await http.get(imgix_url(image_id, params)))
        assert (shown.width, shown.height) == size, params


async def test_fm_and_auto_format(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    png = await http.get(imgix_url(image_id, {"w": 100, "fm": "png"}))
    assert loader(picture(png)).startswith("png")
    url = imgix_url(image_id, {"w": 100, "auto": "format,compress"})
    webp = await http.get(url, headers={"Accept": "image/webp,*/*"})
    assert (webp.headers["content-type"], webp.headers["vary"]) == ("image/webp", "Accept")
    avif = await http.get(url, headers={"Accept": "image/avif,image/webp"})
    assert avif.headers["content-type"] == "image/avif"
    assert (await http.get(url)).headers["content-type"] == "image/jpeg"


async def test_a_tampered_signature_is_403(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    good = imgix_url(image_id, {"w": 100})
    assert (await http.get(good.replace("w=100", "w=101"))).status_code == 403
    assert (await http.get(imgix_url(image_id, {"w": 100}, token="another"))).status_code == 403
    assert (await http.get(f"/imgix/{image_id}?w=100")).status_code == 403


async def test_unsigned_urls_without_a_token(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    image_id, _ = await hosted(http, tenant)
    private_id, _ = await hosted(http, tenant, private=True)
    runtime.settings.dialects.imgix.token = None
    assert picture(await http.get(f"/imgix/{image_id}?w=100")).width == 100
    assert (await http.get(f"/imgix/{private_id}?w=100")).status_code == 404


async def test_private_images_need_their_clients_signature(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    mine, _ = await hosted(http, tenant, private=True)
    theirs, _ = await hosted(http, other_tenant)
    runtime.settings.dialects.imgix.client_id = tenant.id
    assert picture(await http.get(imgix_url(mine, {"w": 100}))).width == 100
    assert (await http.get(imgix_url(theirs, {"w": 100}))).status_code == 404


async def test_bad_parameters(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    assert (await http.get(imgix_url(image_id, {"w": "wide"}))).status_code == 400
    assert (await http.get(imgix_url(image_id, {"w": 100, "fit": "facearea"}))).status_code == 400
    assert (await http.get(imgix_url(image_id, {"w": 100, "blur": 5000}))).status_code == 400
    assert (await http.get(imgix_url(image_id, {"w": 100, "unknown": 1}))).status_code == 200  # ignored, as imgix does
    assert (await http.get(imgix_url("00000000-0000-4000-8000-000000000000", {"w": 100}))).status_code == 404
