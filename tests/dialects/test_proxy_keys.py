"""Per-client proxy keys, added through the v2 admin API and used by the official client libraries: a URL signed
with one tenant's key opens that tenant's images (private ones too, as their owner: no render budget) and never
another tenant's; several keys of a client sign at once (rotation); a removed key stops at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import pytest
from cloudinary import CloudinaryImage
from cloudinary.utils import api_sign_request
from imgix import UrlBuilder
from libthumbor import CryptoURL

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from tests.api.accounthelpers import Account, make_account
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import hosted, picture
from tests.support import images as img

pytestmark = pytest.mark.anyio

DIALECTS = ("imgproxy", "thumbor", "imgix", "cloudinary")


def mounts(*, budget: int) -> dict[str, Any]:
    on = {"enabled": True}
    return {
        "dialects": {"imgproxy": on, "thumbor": on, "imgix": on, "cloudinary": on | {"cloud_name": "instance"}},
        "transforms": {"stranger_renders_per_minute": budget},
    }


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return mounts(budget=2)


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


async def add_key(http: httpx.AsyncClient, admin: Account, client: ApiClient, dialect: str, **given: str) -> Any:
    body = {"dialect": dialect, **given}
    response = await http.post(f"/v2/admin/clients/{client.id}/proxy-keys", json=body, headers=admin.headers())
    assert response.status_code == 201, response.text
    return response.json()


def imgproxy_url(key: dict[str, str], path: str) -> str:
    """imgproxy's documented signing example."""
    message = bytes.fromhex(key["salt"]) + path.encode()
    digest = hmac.new(bytes.fromhex(key["key"]), msg=message, digestmod=hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def url_for(dialect: str, key: dict[str, str], image_id: str, width: int) -> str:
    """A URL asking for `width` pixels of `image_id`, signed with `key` by the dialect's official library."""
    if dialect == "imgproxy":
        return imgproxy_url(key, f"/w:{width}/plain/pinhole://{image_id}")
    if dialect == "thumbor":
        return "/thumbor" + str(CryptoURL(key=key["securityKey"]).generate(width=width, image_url=image_id))
    if dialect == "imgix":
        built = str(UrlBuilder("a.imgix.net", sign_key=key["token"]).create_url(f"/{image_id}", {"w": width}))
        return "/imgix" + built.removeprefix("https://a.imgix.net")
    built = CloudinaryImage(image_id).build_url(
        cloud_name=key["cloudName"],
        api_secret=key["apiSecret"],
        api_key=key["apiKey"],
        secure=True,
        secure_distribution="testserver/cloudinary",
        sign_url=True,
        width=width,
        crop="scale",
    )
    return str(built).removeprefix("https://testserver")


def cloud_for(client: ApiClient) -> str:
    return f"cloud-{client.id[:8]}"


async def keys_of(http: httpx.AsyncClient, admin: Account, client: ApiClient, dialect: str) -> Any:
    extra = {"cloudName": cloud_for(client)} if dialect == "cloudinary" else {}
    return await add_key(http, admin, client, dialect, **extra)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_tenants_key_opens_its_images_and_never_anothers(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient, dialect: str
) -> None:
    mine, _ = await hosted(http, tenant, private=True)
    theirs, _ = await hosted(http, other_tenant)
    theirs_private, _ = await hosted(http, other_tenant, private=True)
    key = await keys_of(http, admin, tenant, dialect)
    await keys_of(http, admin, other_tenant, dialect)
    assert picture(await http.get(url_for(dialect, key, mine, 120))).width == 120  # private, by its own key
    for image_id in (theirs, theirs_private):
        refused = await http.get(url_for(dialect, key, image_id, 120))
        assert refused.status_code in (400, 401, 403, 404), (dialect, refused.status_code)
        assert not refused.headers.get("content-type", "").startswith("image/")


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_rotation_two_keys_sign_and_a_removed_one_stops(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, dialect: str
) -> None:
    image_id, _ = await hosted(http, tenant)
    old = await keys_of(http, admin, tenant, dialect)
    extra = {"cloudName": old["cloudName"]} if dialect == "cloudinary" else {}
    new = await add_key(http, admin, tenant, dialect, **extra)
    for key in (old, new):
        assert picture(await http.get(url_for(dialect, key, image_id, 90))).width == 90
    path = f"/v2/admin/clients/{tenant.id}/proxy-keys/{old['id']}"
    assert (await http.delete(path, headers=admin.headers())).status_code == 204
    assert (await http.get(url_for(dialect, old, image_id, 91))).status_code in (400, 401, 403)
    assert picture(await http.get(url_for(dialect, new, image_id, 91))).width == 91


@pytest.mark.parametrize("settings_overrides", [mounts(budget=0)])
async def test_unsigned_urls_never_open_a_tenant_that_holds_keys(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    runtime.settings.dialects.thumbor.allow_unsafe = True
    signed_off, _ = await hosted(http, other_tenant)  # holds no keys: its public images are open unsigned
    image_id, _ = await hosted(http, tenant)
    for dialect in ("imgproxy", "thumbor", "imgix"):
        await keys_of(http, admin, tenant, dialect)
    unsigned = ["/imgproxy/insecure/w:50/plain/pinhole://{}", "/thumbor/unsafe/50x0/{}", "/imgix/{}?w=50"]
    for template in unsigned:
        assert (await http.get(template.format(image_id))).status_code in (400, 403), template
        assert picture(await http.get(template.format(signed_off))).width == 50


async def test_the_admin_api_shows_secrets_once_and_checks_them(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    given = await add_key(http, admin, tenant, "imgproxy", key="a1b2", salt="c3d4")
    assert (given["key"], given["salt"]) == ("a1b2", "c3d4")
    made = await add_key(http, admin, tenant, "thumbor")
    assert len(made["securityKey"]) > 30
    listed = (await http.get(f"/v2/admin/clients/{tenant.id}/proxy-keys", headers=admin.headers())).json()["data"]
    assert [row["id"] for row in listed] == [given["id"], made["id"]]
    assert all(set(row) == {"id", "dialect", "cloudName", "apiKey", "createdAt"} for row in listed)
    assert "a1b2" not in str(listed)
    assert made["securityKey"] not in str(listed)
    base = f"/v2/admin/clients/{tenant.id}/proxy-keys"
    bad = [
        {"dialect": "imgproxy", "key": "not hex"},
        {"dialect": "thumbor", "token": "imgix's"},
        {"dialect": "cloudinary"},  # no cloud name
        {"dialect": "cloudinary", "cloudName": "instance"},  # the settings' own
        {"dialect": "nope"},
    ]
    for body in bad:
        response = await http.post(base, json=body, headers=admin.headers())
        assert response.status_code in (400, 422), body
        assert "error" in response.json()
    await add_key(http, admin, tenant, "cloudinary", cloudName="taken")
    elsewhere = f"/v2/admin/clients/{other_tenant.id}/proxy-keys"
    clash = await http.post(elsewhere, json={"dialect": "cloudinary", "cloudName": "taken"}, headers=admin.headers())
    assert clash.status_code == 409
    assert (await http.delete(f"{base}/missing", headers=admin.headers())).status_code == 404
    assert (await http.get(base, headers=tenant.headers())).status_code in (401, 403)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_owners_signed_urls_have_no_render_budget(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, dialect: str
) -> None:
    image_id, _ = await hosted(http, tenant)
    key = await keys_of(http, admin, tenant, dialect)
    for width in range(60, 65):  # five cold renders; strangers get two a minute
        assert picture(await http.get(url_for(dialect, key, image_id, width))).width == width


async def test_strangers_keep_the_render_budget(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    runtime.settings.dialects.thumbor.allow_unsafe = True
    image_id, _ = await hosted(http, tenant)
    answers = [(await http.get(f"/thumbor/unsafe/{width}x0/{image_id}")).status_code for width in range(60, 64)]
    assert answers[:2] == [200, 200]
    assert 429 in answers[2:]


async def test_a_clients_cloud_takes_uploads_signed_with_its_own_secret(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    key = await keys_of(http, admin, tenant, "cloudinary")
    cloud = key["cloudName"]

    async def post(secret: str, **params: str) -> httpx.Response:
        signed = {"timestamp": str(int(time.time())), **params}
        body = signed | {"api_key": key["apiKey"], "signature": api_sign_request(signed, secret)}
        files = {"file": ("a.jpg", img.make_jpeg(40, 30), "image/jpeg")}
        return await http.post(f"/cloudinary/v1_1/{cloud}/image/upload", data=body, files=files)

    uploaded = await post(key["apiSecret"], public_id="shop/hero")
    assert uploaded.status_code == 200, uploaded.text
    listed = (await http.get("/v2/images", headers=tenant.headers())).json()["data"]
    assert [row["id"] for row in listed] == [uploaded.json()["asset_id"]]  # the client the cloud name names
    assert (await http.get("/v2/images", headers=other_tenant.headers())).json()["data"] == []
    assert picture(await http.get(url_for("cloudinary", key, "shop/hero", 20))).width == 20
    assert (await post("another secret")).status_code == 401
    assert (await http.post("/cloudinary/v1_1/nobodys-cloud/image/upload", data={})).status_code == 404
