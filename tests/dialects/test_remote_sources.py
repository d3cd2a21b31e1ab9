"""Remote origins through each proxy dialect, with URLs made by the official client libraries (libthumbor, the imgix
URL builder, the Cloudinary SDK with `type="fetch"`, imgproxy's documented signing example), against a real origin
on loopback (reachable only because the test allows private networks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cloudinary import CloudinaryImage
from imgix import UrlBuilder
from libthumbor import CryptoURL

from tests.dialects.proxyhelpers import assert_centre_crop, loader, picture
from tests.support.photo_origin import PhotoOrigin, run_photo_origin

pytestmark = pytest.mark.anyio

THUMBOR_KEY = "thumbor-key"
IMGPROXY_KEY, IMGPROXY_SALT = "943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881", "520f986b"
IMGIX_TOKEN = "imgix-token"
CLOUD, SECRET = "demo-cloud", "cloudinary-secret"


@pytest.fixture(scope="module")
def origin() -> Iterator[PhotoOrigin]:
    with run_photo_origin() as running:
        yield running


def mounts(**extra: Any) -> dict[str, Any]:
    return {
        "thumbor": {"enabled": True, "security_key": THUMBOR_KEY},
        "imgproxy": {"enabled": True, "key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT]},
        "imgix": {"enabled": True, "token": IMGIX_TOKEN, **extra},
        "cloudinary": {"enabled": True, "cloud_name": CLOUD, "api_key": "1234", "api_secret": SECRET},
    }


@pytest.fixture
def settings_overrides(origin: PhotoOrigin, request: pytest.FixtureRequest) -> dict[str, Any]:
    folder = {"origin": f"{origin.base}/photos"} if getattr(request, "param", False) else {}
    return {
        "fetch": {"allow_private_networks": True},
        "proxy": {"allowed_sources": [f"{origin.base}/photos/"]},
        "dialects": mounts(**folder),
    }


def thumbor_url(**options: Any) -> str:
    return "/thumbor" + str(CryptoURL(key=THUMBOR_KEY).generate(**options))


def imgproxy_url(path: str) -> str:
    """imgproxy's documented signing example (HMAC-SHA256 over salt + path, URL-safe base64 without padding)."""
    key, salt = bytes.fromhex(IMGPROXY_KEY), bytes.fromhex(IMGPROXY_SALT)
    digest = hmac.new(key, msg=salt + path.encode(), digestmod=hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def imgix_url(path: str, params: dict[str, Any]) -> str:
    built = str(UrlBuilder("photos.example.imgix.net", sign_key=IMGIX_TOKEN).create_url(path, params))
    return "/imgix" + built.removeprefix("https://photos.example.imgix.net")


def cloudinary_fetch_url(url: str, **options: Any) -> str:
    built = str(
        CloudinaryImage(url).build_url(
            type="fetch",
            cloud_name=CLOUD,
            api_secret=SECRET,
            api_key="1234",
            secure=True,
            secure_distribution="testserver/cloudinary",
            sign_url=True,
            **options,
        )
    )
    return "/cloudinary" + built.removeprefix("https://testserver/cloudinary")


async def test_thumbor_fetches_an_allowed_url(http: httpx.AsyncClient, origin: PhotoOrigin) -> None:
    source = origin.url("/photos/a.jpg")
    response = await http.get(thumbor_url(width=200, height=300, image_url=source))
    assert_centre_crop(response, origin.state.photo(), 200, 300)
    assert loader(picture(response)).startswith("jpeg")
    # thumbor's HTTP loader takes `host/path` as http too.
    bare = source.removeprefix("http://")
    assert_centre_crop(
        await http.get(thumbor_url(width=200, height=300, image_url=bare)), origin.state.photo(), 200, 300
    )


async def test_imgproxy_plain_and_base64_sources(http: httpx.AsyncClient, origin: PhotoOrigin) -> None:
    source = origin.url("/photos/b.jpg")
    plain = await http.get(imgproxy_url(f"/rs:fill:200:300/plain/{source}@webp"))
    assert plain.headers["content-type"] == "image/webp"
    assert_centre_crop(plain, origin.state.photo(), 200, 300)
    encoded = base64.urlsafe_b64encode(source.encode()).rstrip(b"=").decode()
    split = "/".join(encoded[i : i + 16] for i in range(0, len(encoded), 16))  # imgproxy allows splitting it
    response = await http.get(imgproxy_url(f"/rs:fill:200:300/{split}.png"))
    assert response.headers["content-type"] == "image/png"
    assert_centre_crop(response, origin.state.photo(), 200, 300)


async def test_imgix_web_proxy_source(http: httpx.AsyncClient, origin: PhotoOrigin) -> None:
    response = await http.get(imgix_url(origin.url("/photos/c.jpg"), {"w": 200, "h": 300, "fit": "crop"}))
    assert_centre_crop(response, origin.state.photo(), 200, 300)
    tampered = imgix_url(origin.url("/photos/c.jpg"), {"w": 200, "h": 300, "fit": "crop"}).replace("w=200", "w=201")
    assert (await http.get(tampered)).status_code == 403


@pytest.mark.parametrize("settings_overrides", [True], indirect=True, ids=["web-folder"])
async def test_imgix_web_folder_source(http: httpx.AsyncClient, origin: PhotoOrigin) -> None:
    response = await http.get(imgix_url("/e.jpg", {"w": 200, "h": 300, "fit": "crop", "fm": "png"}))
    assert response.headers["content-type"] == "image/png"
    assert_centre_crop(response, origin.state.photo(), 200, 300)
    assert origin.state.hits["/photos/e.jpg"] >= 1
    # Paths cannot climb out of the folder (HTTP clients resolve `..` before sending; encoded dots are refused).
    for path in ("/%2e%2e/other/e.jpg", "/..%2fother/e.jpg"):
        signature = hashlib.md5(f"{IMGIX_TOKEN}{path}?w=20".encode(), usedforsecurity=False).hexdigest()
        assert (await http.get(f"/imgix{path}?w=20&s={signature}")).status_code == 403
    assert origin.state.hits["/other/e.jpg"] == 0


async def test_cloudinary_fetch_type(http: httpx.AsyncClient, origin: PhotoOrigin) -> None:
    url = cloudinary_fetch_url(origin.url("/photos/d.jpg"), width=200, height=300, crop="fill")
    assert "/image/fetch/s--" in url
    response = await http.get(url)
    assert_centre_crop(response, origin.state.photo(), 200, 300)
    assert (await http.get(url.replace("w_200", "w_201"))).status_code == 401  # Cloudinary's answer to a bad sig
    # A remote URL is not a public id of the upload type.
    upload = "/cloudinary" + str(
        CloudinaryImage(origin.url("/photos/d.jpg")).build_url(cloud_name=CLOUD, secure=True)
    ).removeprefix(f"https://res.cloudinary.com/{CLOUD}")
    assert (await http.get(f"/cloudinary/{CLOUD}" + upload.removeprefix("/cloudinary"))).status_code == 404


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda url: thumbor_url(width=50, height=50, image_url=url), 400),  # thumbor's ALLOWED_SOURCES refusal
        (lambda url: imgproxy_url(f"/rs:fit:50:50/plain/{url}"), 404),  # imgproxy's "Invalid source"
        (lambda url: imgix_url(url, {"w": 50}), 403),
        (lambda url: cloudinary_fetch_url(url, width=50), 403),
    ],
    ids=["thumbor", "imgproxy", "imgix", "cloudinary"],
)
async def test_each_dialect_refuses_a_url_outside_the_allowlist(
    http: httpx.AsyncClient, origin: PhotoOrigin, make: Any, status: int
) -> None:
    before = sum(origin.state.hits.values())
    for url in (
        origin.url("/other/a.jpg"),
        origin.url("/photosx/a.jpg"),
        f"http://localhost:{origin.port}/photos/a.jpg",
    ):
        response = await http.get(make(url))
        assert response.status_code == status, (url, response.status_code)
    assert sum(origin.state.hits.values()) == before  # refused before any fetch
