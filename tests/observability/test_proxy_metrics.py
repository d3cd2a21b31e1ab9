"""/metrics after real requests through each transform-proxy dialect (thumbor, imgproxy, imgix, Cloudinary), their
URLs made by each service's own client library: a cold render counts once as a render, the same URL again as a
warm hit, both under the dialect's name."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cloudinary import CloudinaryImage
from imgix import UrlBuilder
from libthumbor import CryptoURL

from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.observability.scrape import Scrape, scrape
from tests.support.images import assert_image, make_jpeg

pytestmark = pytest.mark.anyio

THUMBOR_KEY = "thumbor-key-for-metrics"
IMGPROXY_KEY, IMGPROXY_SALT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "f9e8d7c6b5a493827160f5e4d3c2b1a0"
IMGIX_TOKEN = "imgix-token-for-metrics"
CLOUD, CLOUD_SECRET = "metrics-cloud", "cloudinary-secret-for-metrics"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    cloudinary = {"enabled": True, "cloud_name": CLOUD, "api_key": "4321", "api_secret": CLOUD_SECRET}
    return {
        "dialects": {
            "thumbor": {"enabled": True, "security_key": THUMBOR_KEY},
            "imgproxy": {"enabled": True, "key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT]},
            "imgix": {"enabled": True, "token": IMGIX_TOKEN},
            "cloudinary": cloudinary,
        }
    }


def thumbor(image_id: str) -> str:
    return "/thumbor" + str(CryptoURL(key=THUMBOR_KEY).generate(width=120, height=90, image_url=image_id))


def imgproxy(image_id: str) -> str:
    path = f"/rs:fit:120:90/plain/pinhole://{image_id}"
    message = bytes.fromhex(IMGPROXY_SALT) + path.encode()
    digest = hmac.new(bytes.fromhex(IMGPROXY_KEY), msg=message, digestmod=hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def imgix(image_id: str) -> str:
    host = "https://photos.example.imgix.net"
    built = str(UrlBuilder("photos.example.imgix.net", sign_key=IMGIX_TOKEN).create_url(f"/{image_id}", {"w": 120}))
    return "/imgix" + built.removeprefix(host)


def cloudinary(image_id: str) -> str:
    built = CloudinaryImage(image_id).build_url(
        cloud_name=CLOUD,
        api_key="4321",
        api_secret=CLOUD_SECRET,
        secure=True,
        secure_distribution="testserver/cloudinary",
        sign_url=True,
        width=120,
        crop="scale",
    )
    return "/cloudinary" + str(built).removeprefix("https://testserver/cloudinary")


URLS: dict[str, Callable[[str], str]] = {
    "thumbor": thumbor,
    "imgproxy": imgproxy,
    "imgix": imgix,
    "cloudinary": cloudinary,
}


def _warm(found: Scrape) -> float:
    return found.value("pinhole_delivery_answers_total", source="memory") + found.value(
        "pinhole_delivery_answers_total", source="store"
    )


@pytest.mark.parametrize("dialect", list(URLS))
async def test_a_proxy_render_counts_once_and_its_repeat_as_a_warm_hit(
    http: httpx.AsyncClient, tenant: ApiClient, dialect: str
) -> None:
    image = await upload(http, tenant, make_jpeg(480, 360))
    url = URLS[dialect](str(image["id"]))
    before = await scrape(http)
    cold = await http.get(url)
    assert cold.status_code == 200, cold.text
    assert_image(cold.content, format="jpeg", width=120, height=90)
    after_cold = await scrape(http)
    warm = await http.get(url)
    assert warm.status_code == 200
    assert warm.content == cold.content
    after_warm = await scrape(http)

    renders = "pinhole_delivery_answers_total"
    assert after_cold.value(renders, source="render") - before.value(renders, source="render") == 1
    assert _warm(after_cold) == _warm(before)
    assert after_warm.value(renders, source="render") == after_cold.value(renders, source="render")
    assert _warm(after_warm) - _warm(after_cold) == 1
    assert after_warm.value("pinhole_render_duration_seconds_count", format="jpeg") == 1
    served = after_warm.value("pinhole_http_requests_total", dialect=dialect, status="2xx")
    assert served == 2
    assert after_warm.value("pinhole_http_request_duration_seconds_count", dialect=dialect) == 2
    sent = after_warm.value("pinhole_http_response_bytes_total", dialect=dialect)
    assert sent == len(cold.content) + len(warm.content)


@pytest.mark.parametrize("dialect", list(URLS))
async def test_a_proxy_url_with_a_bad_signature_counts_as_an_error_of_its_dialect(
    http: httpx.AsyncClient, tenant: ApiClient, dialect: str
) -> None:
    image = await upload(http, tenant)
    url = URLS[dialect](str(image["id"]))
    forged = url.replace("120", "121", 1)  # the options no longer match the signature
    response = await http.get(forged)
    assert 400 <= response.status_code < 500, response.text
    found = await scrape(http)
    assert found.value("pinhole_http_requests_total", dialect=dialect, status="4xx") == 1
    assert found.value("pinhole_api_errors_total", dialect=dialect) == 1
    assert found.value("pinhole_delivery_answers_total", source="render") == 0


async def test_a_refused_cloudinary_upload_counts_under_its_api_with_its_reason(http: httpx.AsyncClient) -> None:
    fields = {"timestamp": "1700000000", "api_key": "4321", "signature": "0" * 40}
    files = {"file": ("p.jpg", make_jpeg(32, 24), "image/jpeg")}
    response = await http.post(f"/cloudinary/v1_1/{CLOUD}/image/upload", data=fields, files=files)
    assert 400 <= response.status_code < 500, response.text
    found = await scrape(http)
    assert found.value("pinhole_uploads_total", dialect="cloudinary", kind="image", outcome="refused") == 1
    assert found.label_values("pinhole_uploads_total", "reason") - {""} != set()
    assert found.value("pinhole_http_requests_total", dialect="cloudinary", route="upload", status="4xx") == 1
