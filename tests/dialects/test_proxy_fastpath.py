"""The proxy URL languages' warm path (`proxies.fastpath`) answers exactly as their routes do, and only after the
routes' own checks: a tampered signature, an expired imgproxy URL, a key added or removed are refused as before."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from tests.api.accounthelpers import Account, make_account
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import hosted, picture

pytestmark = pytest.mark.anyio

THUMBOR_KEY, IMGIX_TOKEN, CLOUD_SECRET = "thumbor-secret", "imgix-token", "cloud-secret"
IMGPROXY_KEY, IMGPROXY_SALT = "a1b2c3d4", "e5f6a7b8"
DIALECTS = ("thumbor", "imgproxy", "imgix", "cloudinary")
REFUSED = {"thumbor": 400, "imgproxy": 403, "imgix": 403, "cloudinary": 401}  # each original's status
SAME = ("content-type", "content-length", "etag", "cache-control", "x-content-type-options", "accept-ranges", "vary")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "dialects": {
            "thumbor": {"enabled": True, "security_key": THUMBOR_KEY, "allow_unsafe": True},
            "imgproxy": {"enabled": True, "key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT], "auto_webp": True},
            "imgix": {"enabled": True, "token": IMGIX_TOKEN},
            "cloudinary": {"enabled": True, "cloud_name": "shop", "api_secret": CLOUD_SECRET},
        }
    }


def imgproxy_url(path: str, key: str = IMGPROXY_KEY, salt: str = IMGPROXY_SALT) -> str:
    digest = hmac.new(bytes.fromhex(key), bytes.fromhex(salt) + path.encode(), hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def url_for(dialect: str, image_id: str, width: int) -> str:
    """A URL for `width` pixels of `image_id`, signed with the instance-wide secret as each original signs it."""
    if dialect == "thumbor":
        part = f"{width}x0/filters:quality(70)/{image_id}"
        digest = hmac.new(THUMBOR_KEY.encode(), part.encode(), hashlib.sha1).digest()
        return f"/thumbor/{base64.urlsafe_b64encode(digest).decode()}/{part}"
    if dialect == "imgproxy":
        return imgproxy_url(f"/w:{width}/q:70/plain/pinhole://{image_id}")
    if dialect == "imgix":
        path, query = f"/{image_id}", f"w={width}&auto=format"
        signature = hashlib.md5(f"{IMGIX_TOKEN}{path}?{query}".encode(), usedforsecurity=False).hexdigest()
        return f"/imgix{path}?{query}&s={signature}"
    part = f"c_scale,w_{width}/{image_id}"
    digest = hashlib.sha1((part + CLOUD_SECRET).encode(), usedforsecurity=False).digest()
    return f"/cloudinary/shop/image/upload/s--{base64.urlsafe_b64encode(digest).decode()[:8]}--/{part}"


def tampered(url: str) -> str:
    """`url` with one character of its signature changed."""
    if "&s=" in url:
        head, _, signature = url.rpartition("&s=")
        return f"{head}&s={'0' if signature[0] != '0' else '1'}{signature[1:]}"
    marker = "s--" if "/s--" in url else "/"
    start = url.index(marker, 1 if marker == "/" else 0) + len(marker)
    return url[:start] + ("A" if url[start] != "A" else "B") + url[start + 1 :]


async def warm_up(http: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    """The route's (cold) answer; then the warm path loads the bytes into memory."""
    cold = await http.get(url, headers=headers)
    assert cold.status_code == 200, cold.text
    assert (await http.get(url, headers=headers)).status_code == 200
    return cold


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_warm_answer_is_the_routes(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, dialect: str
) -> None:
    image_id, _ = await hosted(http, tenant)
    url = url_for(dialect, image_id, 120)
    accept = {"accept": "image/webp,*/*"}
    cold = await warm_up(http, url, **accept)
    hits = runtime.hot.hits
    warm = await http.get(url, headers=accept)
    assert runtime.hot.hits == hits + 1  # answered from memory
    assert (warm.status_code, warm.content) == (cold.status_code, cold.content)
    assert {h: warm.headers.get(h) for h in SAME} == {h: cold.headers.get(h) for h in SAME}
    assert picture(warm).width == 120
    not_modified = await http.get(url, headers={**accept, "If-None-Match": warm.headers["etag"]})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == cold.headers["etag"]
    head = await http.head(url, headers=accept)
    assert (head.content, head.headers["content-length"]) == (b"", cold.headers["content-length"])
    assert runtime.hot.hits == hits + 3


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_tampered_signature_is_refused_on_the_warm_path(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, dialect: str
) -> None:
    image_id, _ = await hosted(http, tenant)
    url = url_for(dialect, image_id, 110)
    await warm_up(http, url)
    hits = runtime.hot.hits
    refused = await http.get(tampered(url))
    assert refused.status_code == REFUSED[dialect]
    assert not refused.headers.get("content-type", "").startswith("image/")
    assert runtime.hot.hits == hits


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_views_count_on_the_warm_path_and_private_images_stay_closed(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, dialect: str
) -> None:
    image_id, _ = await hosted(http, tenant)
    for _ in range(4):
        assert (await http.get(url_for(dialect, image_id, 90))).status_code == 200
    assert runtime.hot.hits >= 2
    await runtime.usage.flush()
    info = await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=tenant.headers())
    assert info.json()["views"] == 4
    private_id, _ = await hosted(http, tenant, private=True)
    for _ in range(3):  # the instance-wide keys act for no client here: private images never open
        assert (await http.get(url_for(dialect, private_id, 90))).status_code == 404


async def test_an_expired_imgproxy_url_is_refused_after_it_was_warm(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_id, _ = await hosted(http, tenant)
    expires = int(time.time()) + 60
    url = imgproxy_url(f"/w:70/exp:{expires}/plain/pinhole://{image_id}")
    await warm_up(http, url)
    hits = runtime.hot.hits
    assert (await http.get(url)).status_code == 200
    assert runtime.hot.hits == hits + 1
    monkeypatch.setattr(time, "time", lambda: expires + 1.0)
    assert (await http.get(url)).status_code == 404  # imgproxy's answer to an expired URL
    assert runtime.hot.hits == hits + 1


async def test_a_key_added_closes_unsigned_warm_urls_at_once(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    image_id, _ = await hosted(http, tenant)
    url = f"/thumbor/unsafe/80x0/{image_id}"
    await warm_up(http, url)
    admin = await make_account(runtime, "root", role=Role.ADMIN)
    path = f"/v2/admin/clients/{tenant.id}/proxy-keys"
    added = await http.post(path, json={"dialect": "thumbor"}, headers=admin.headers())
    assert added.status_code == 201, added.text
    assert (await http.get(url)).status_code == 400  # the tenant asked for signed URLs
    signed = url_for("thumbor", image_id, 80)  # the instance-wide key still opens public images
    assert picture(await http.get(signed)).width == 80


async def test_a_removed_key_stops_on_the_warm_path(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    image_id, _ = await hosted(http, tenant, private=True)
    admin: Account = await make_account(runtime, "root", role=Role.ADMIN)
    path = f"/v2/admin/clients/{tenant.id}/proxy-keys"
    key = (await http.post(path, json={"dialect": "imgproxy"}, headers=admin.headers())).json()
    url = imgproxy_url(f"/w:60/plain/pinhole://{image_id}", key["key"], key["salt"])
    for _ in range(3):  # its own key opens the private image
        response = await http.get(url)
        assert picture(response).width == 60
        assert response.headers["cache-control"].startswith("private")
    assert (await http.delete(f"{path}/{key['id']}", headers=admin.headers())).status_code == 204
    assert (await http.get(url)).status_code == 403


async def test_the_instance_key_of_a_client_opens_its_private_images_warm(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    runtime.settings.dialects.thumbor.client_id = tenant.id
    private_id, _ = await hosted(http, tenant, private=True)
    url = url_for("thumbor", private_id, 70)
    cold = await warm_up(http, url)
    hits = runtime.hot.hits
    warm = await http.get(url)
    assert runtime.hot.hits == hits + 1
    assert warm.content == cold.content
    assert {h: warm.headers.get(h) for h in SAME} == {h: cold.headers.get(h) for h in SAME}
    assert warm.headers["cache-control"].startswith("private")
    theirs, _ = await hosted(http, other_tenant)
    assert (await http.get(url_for("thumbor", theirs, 70))).status_code == 404  # another client's image
