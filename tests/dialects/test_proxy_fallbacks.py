"""Fallback images where the originals serve one: imgproxy's fallback image (with its status), imgix's default image,
Cloudinary's `d_<public id>` (opened only as the URL may open images), each counted in
`pinhole_fallback_images_total`; thumbor serves none."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
import pytest
import pyvips
from cloudinary import CloudinaryImage
from imgix import UrlBuilder

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import hosted, picture
from tests.observability.scrape import scrape

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"
KEY, SALT, TOKEN, SECRET = "0a1b", "2c3d", "imgix-token", "cloud-secret"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "dialects": {
            "imgproxy": {"enabled": True, "key": [KEY], "salt": [SALT], "fallback_image_http_code": 404},
            "imgix": {"enabled": True, "token": TOKEN},
            "cloudinary": {"enabled": True, "cloud_name": "demo", "api_secret": SECRET},
            "thumbor": {"enabled": True, "allow_unsafe": True},
        },
    }


def imgproxy(path: str) -> str:
    message = bytes.fromhex(SALT) + path.encode()
    digest = hmac.new(bytes.fromhex(KEY), msg=message, digestmod=hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def imgix(image_id: str, **params: Any) -> str:
    built = str(UrlBuilder("a.imgix.net", sign_key=TOKEN).create_url(f"/{image_id}", params))
    return "/imgix" + built.removeprefix("https://a.imgix.net")


async def test_imgproxy_and_imgix_serve_the_configured_fallback(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    fallback, _ = await hosted(http, tenant)
    assert (await http.get(imgproxy(f"/w:100/plain/pinhole://{MISSING}"))).status_code == 404  # none set yet
    runtime.settings.dialects.imgproxy.fallback_image = fallback
    runtime.settings.dialects.imgix.default_image = fallback
    before = (await scrape(http)).value("pinhole_fallback_images_total")
    answer = await http.get(imgproxy(f"/w:100/plain/pinhole://{MISSING}"))
    assert answer.status_code == 404  # IMGPROXY_FALLBACK_IMAGE_HTTP_CODE
    assert (picture_of(answer), answer.headers["cache-control"]) == ((100, 75), "no-store")
    default = await http.get(imgix(MISSING, w=120))
    assert (default.status_code, picture(default).width) == (200, 120)
    assert default.headers["x-pinhole-fallback"] == "1"
    assert (await http.get(imgproxy(f"/w:100/plain/pinhole://{fallback}"))).headers.get("x-pinhole-fallback") is None
    assert (await http.get("/imgproxy/wrong/w:100/plain/pinhole://" + MISSING)).status_code == 403  # not for errors
    assert (await scrape(http)).value("pinhole_fallback_images_total") - before == 2


def picture_of(response: httpx.Response) -> tuple[int, int]:
    shown = pyvips.Image.new_from_buffer(response.content, "")
    return shown.width, shown.height


def cloudinary(public_id: str, **options: Any) -> str:
    built = CloudinaryImage(public_id).build_url(
        cloud_name="demo", api_secret=SECRET, api_key="1", secure=True,
        secure_distribution="testserver/cloudinary", **options,
    )  # fmt: skip
    return str(built).removeprefix("https://testserver")


async def test_cloudinary_default_image_opens_as_the_url_may(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    public, _ = await hosted(http, tenant)
    private, _ = await hosted(http, other_tenant, private=True)
    answer = await http.get(cloudinary(MISSING, width=90, crop="scale", default_image=public))
    assert (answer.status_code, picture(answer).width, answer.headers["x-pinhole-fallback"]) == (200, 90, "1")
    hidden = await http.get(cloudinary(MISSING, width=90, crop="scale", default_image=private))
    assert hidden.status_code == 404  # a private image never opens as a default image of an unsigned URL
    assert (await http.get(cloudinary(MISSING, width=90, crop="scale"))).status_code == 404


async def test_thumbor_serves_no_fallback(http: httpx.AsyncClient) -> None:
    answer = await http.get(f"/thumbor/unsafe/100x100/{MISSING}")
    assert answer.status_code == 404
    assert not answer.headers["content-type"].startswith("image/")
