"""Cloudinary delivery URLs built by the cloudinary Python SDK (`build_url` with `sign_url=True`) against the
real app, over hosted images: the SDK's `secure_distribution` points at pinhole's `/cloudinary`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cloudinary import CloudinaryImage

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop, hosted, loader, picture

pytestmark = pytest.mark.anyio

CLOUD, SECRET = "demo-cloud", "cloudinary-api-secret"
BASE = "https://testserver/cloudinary"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    mount = {"enabled": True, "cloud_name": CLOUD, "api_key": "1234", "api_secret": SECRET}
    return {"dialects": {"cloudinary": mount}}


def cld_url(public_id: str, *, secret: str = SECRET, sign: bool = True, **options: Any) -> str:
    built = str(
        CloudinaryImage(public_id).build_url(
            cloud_name=CLOUD,
            api_secret=secret,
            api_key="1234",
            secure=True,
            secure_distribution="testserver/cloudinary",
            sign_url=sign,
            **options,
        )
    )
    assert built.startswith(BASE), built
    return "/cloudinary" + built.removeprefix(BASE)


async def test_fill_gives_the_centre_crop(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, original = await hosted(http, tenant)
    response = await http.get(cld_url(image_id, width=200, height=300, crop="fill", gravity="center"))
    assert "/s--" in cld_url(image_id, width=200, height=300, crop="fill")
    assert_centre_crop(response, original, 200, 300)


async def test_crop_modes_ratios_and_dpr(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    cases: list[tuple[dict[str, Any], tuple[int, int]]] = [
        ({"width": 300, "height": 300, "crop": "fit"}, (300, 225)),
        ({"width": 300, "height": 300, "crop": "scale"}, (300, 300)),
        ({"width": 1600, "crop": "limit"}, (800, 600)),
        ({"width": 1600, "crop": "scale"}, (1600, 1200)),
        ({"width": 300, "aspect_ratio": "1:1", "crop": "fill"}, (300, 300)),
        ({"width": 150, "dpr": 2.0, "crop": "scale"}, (300, 225)),
        ({"width": 0.5, "crop": "scale"}, (400, 300)),
    ]
    for params, size in cases:
        shown = picture(await http.get(cld_url(image_id, **params)))
        assert (shown.width, shown.height) == size, params


async def test_chained_transformations_version_and_formats(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    chained = [{"width": 200, "height": 300, "crop": "fill"}, {"quality": "auto", "fetch_format": "auto"}]
    url = cld_url(image_id, transformation=chained, version=1712345678)
    webp = await http.get(url, headers={"Accept": "image/webp,*/*"})
    assert (webp.headers["content-type"], webp.headers["vary"]) == ("image/webp", "Accept")
    assert (picture(webp).width, picture(webp).height) == (200, 300)
    png = await http.get(cld_url(image_id, width=100, crop="scale", format="png"))
    assert loader(picture(png)).startswith("png")


async def test_a_tampered_signature_is_401(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    good = cld_url(image_id, width=100, crop="scale")
    tampered = await http.get(good.replace("w_100", "w_101"))
    assert tampered.status_code == 401
    assert tampered.headers["x-cld-error"]
    assert (await http.get(cld_url(image_id, secret="another", width=100, crop="scale"))).status_code == 401


async def test_private_images_only_signed_for_their_client(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    mine, _ = await hosted(http, tenant, private=True)
    public, _ = await hosted(http, tenant)
    theirs, _ = await hosted(http, other_tenant)
    runtime.settings.dialects.cloudinary.client_id = tenant.id
    assert picture(await http.get(cld_url(mine, width=100, crop="scale"))).width == 100
    assert (await http.get(cld_url(mine, sign=False, width=100, crop="scale"))).status_code == 404
    assert picture(await http.get(cld_url(public, sign=False, width=100, crop="scale"))).width == 100
    assert (await http.get(cld_url(theirs, width=100, crop="scale"))).status_code == 404


async def test_errors(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    sepia = await http.get(cld_url(image_id, width=100, effect="sepia"))
    assert sepia.status_code == 400
    assert "e_sepia" in sepia.headers["x-cld-error"]
    assert (await http.get(cld_url(image_id, width=100, height=100, crop="imagga_scale"))).status_code == 400
    other_cloud = cld_url(image_id, width=100, crop="scale").replace(f"/{CLOUD}/", "/another-cloud/")
    assert (await http.get(other_cloud)).status_code == 404
    missing = cld_url("00000000-0000-4000-8000-000000000000", width=100, crop="scale")
    assert (await http.get(missing)).status_code == 404
