"""imgproxy URLs signed with the signing example of imgproxy's documentation, against the real app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop, hosted, loader, picture

pytestmark = pytest.mark.anyio

KEY = "943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881"
SALT = "520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5"
OLD_KEY, OLD_SALT = "0123456789abcdef", "fedcba9876543210"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"dialects": {"imgproxy": {"enabled": True, "key": [KEY, OLD_KEY], "salt": [SALT, OLD_SALT]}}}


def sign(path: str, key: str = KEY, salt: str = SALT) -> str:
    """imgproxy's documented Python example: HMAC-SHA256(key, salt + path), URL-safe base64 without padding."""
    digest = hmac.new(bytes.fromhex(key), msg=bytes.fromhex(salt) + path.encode(), digestmod=hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"/imgproxy/{signature}{path}"


async def test_fill_gives_the_centre_crop(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, original = await hosted(http, tenant)
    response = await http.get(sign(f"/rs:fill:200:300/plain/pinhole://{image_id}"))
    assert_centre_crop(response, original, 200, 300)


async def test_the_base64_source_and_the_long_names(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, original = await hosted(http, tenant)
    encoded = base64.urlsafe_b64encode(f"pinhole://{image_id}".encode()).rstrip(b"=").decode()
    split = f"{encoded[:10]}/{encoded[10:]}"  # imgproxy lets a long encoded source be split by slashes
    url = sign(f"/resizing_type:fill/width:200/height:300/{split}.png")
    response = await http.get(url)
    assert_centre_crop(response, original, 200, 300)
    assert loader(picture(response)).startswith("png")


async def test_fit_force_dpr_and_enlarge(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    source = f"plain/pinhole://{image_id}"
    cases = {
        f"/rs:fit:300:300/{source}": (300, 225),
        f"/rt:force/w:300/h:300/{source}": (300, 300),
        f"/s:150:150/dpr:2/{source}": (300, 225),
        f"/w:1600/{source}": (800, 600),  # no enlarging unless asked
        f"/w:1600/el:1/{source}": (1600, 1200),
        f"/rs:auto:300:200/{source}": (300, 200),  # same orientation: fill
        f"/rs:auto:200:300/{source}": (200, 150),  # another orientation: fit
    }
    for path, size in cases.items():
        shown = picture(await http.get(sign(path)))
        assert (shown.width, shown.height) == size, path


async def test_format_quality_and_extension(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    webp = await http.get(sign(f"/w:100/q:70/sm:1/cb:abc/plain/pinhole://{image_id}@webp"))
    assert (webp.headers["content-type"], picture(webp).width) == ("image/webp", 100)
    png = await http.get(sign(f"/w:100/f:png/plain/pinhole://{image_id}"))
    assert loader(picture(png)).startswith("png")


async def test_a_rotated_key_still_signs(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    assert picture(await http.get(sign(f"/w:100/plain/pinhole://{image_id}", OLD_KEY, OLD_SALT))).width == 100


async def test_a_tampered_signature_is_403(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    good = sign(f"/w:100/plain/pinhole://{image_id}")
    assert (await http.get(good.replace("/w:100/", "/w:101/"))).status_code == 403
    assert (await http.get(f"/imgproxy/insecure/w:100/plain/pinhole://{image_id}")).status_code == 403
    wrong_salt = sign(f"/w:100/plain/pinhole://{image_id}", KEY, OLD_SALT)
    response = await http.get(wrong_salt)
    assert (response.status_code, response.text) == (403, "Invalid signature.")


async def test_insecure_when_signing_is_off(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    image_id, _ = await hosted(http, tenant)
    private_id, _ = await hosted(http, tenant, private=True)
    runtime.settings.dialects.imgproxy.key = []
    runtime.settings.dialects.imgproxy.salt = []
    assert picture(await http.get(f"/imgproxy/insecure/w:100/plain/pinhole://{image_id}")).width == 100
    assert (await http.get(f"/imgproxy/insecure/w:100/plain/pinhole://{private_id}")).status_code == 404


async def test_expires_and_invalid_urls_are_404(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    source = f"plain/pinhole://{image_id}"
    assert picture(await http.get(sign(f"/w:50/exp:{int(time.time()) + 600}/{source}"))).width == 50
    assert (await http.get(sign(f"/w:50/exp:{int(time.time()) - 1}/{source}"))).status_code == 404
    assert (await http.get(sign(f"/nonsense:1/{source}"))).status_code == 404
    assert (await http.get(sign(f"/g:no:5:5/{source}"))).status_code == 404  # gravity offsets: not served
    assert (await http.get(sign("/w:50/plain/https://example.com/a.jpg"))).status_code == 404
    assert (await http.get(sign("/w:50/plain/pinhole://00000000-0000-4000-8000-000000000000"))).status_code == 404


async def test_auto_webp_and_avif_by_accept(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    image_id, _ = await hosted(http, tenant)
    runtime.settings.dialects.imgproxy.auto_webp = True
    runtime.settings.dialects.imgproxy.auto_avif = True
    url = sign(f"/w:100/plain/pinhole://{image_id}")
    webp = await http.get(url, headers={"Accept": "image/webp,*/*"})
    assert (webp.headers["content-type"], webp.headers["vary"]) == ("image/webp", "Accept")
    avif = await http.get(url, headers={"Accept": "image/avif,image/webp,*/*"})
    assert avif.headers["content-type"] == "image/avif"
    plain = await http.get(url, headers={"Accept": "*/*"})
    assert plain.headers["content-type"] == "image/jpeg"
