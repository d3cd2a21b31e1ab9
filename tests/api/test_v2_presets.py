"""Presets an admin manages (`/v2/admin/presets`): checked by the transform parser, merged with the configured ones
(read-only), applied at once here and within the cache time on another instance, warm path included; and eager
presets rendered after an upload through every upload path, so the first view is warm."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from pinhole.app import create_app
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.settings import Settings
from tests.api.accounthelpers import Account, make_account, upload_key_headers
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.imaging.test_negotiation import CHROME, CURL, SAFARI_15
from tests.support import images as img

pytestmark = pytest.mark.anyio

CONFIGURED: dict[str, Any] = {"transforms": {"presets": {"card": "w=120&h=90&fit=cover"}}}
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(400, 300), user="alice")


async def _width(http: httpx.AsyncClient, image_id: str, preset: str) -> int | None:
    """The width `preset=<preset>` renders (asked twice: cold, then through the warm path); None when refused."""
    found: list[int | None] = []
    for _ in range(2):
        response = await http.get(f"/v2/images/{image_id}", params={"preset": preset}, headers={"Accept": CURL})
        if response.status_code != 200:
            assert response.status_code == 400, response.text
            assert response.json()["error"]["field"] == "preset"
            found.append(None)
            continue
        assert img.format_of(response.content) == "jpeg"
        found.append(int(img.open_image(response.content).width))
    assert found[0] == found[1]
    return found[0]


@pytest.mark.parametrize("settings_overrides", [CONFIGURED])
async def test_an_admin_adds_changes_and_deletes_presets(
    http: httpx.AsyncClient, admin: Account, photo: dict[str, Any]
) -> None:
    listed = (await http.get("/v2/admin/presets", headers=admin.headers())).json()["data"]
    assert [(p["name"], p["configured"], p["eager"]) for p in listed] == [("card", True, False)]
    assert await _width(http, photo["id"], "thumb") is None

    created = await http.post(
        "/v2/admin/presets", headers=admin.headers(), json={"name": "thumb", "query": "?w=50&grayscale=true"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["query"], body["configured"], body["updatedBy"]) == (
        "thumb",
        "w=50&grayscale=true",
        False,
        admin.id,
    )
    assert await _width(http, photo["id"], "thumb") == 50  # cold, then warm

    changed = await http.patch("/v2/admin/presets/thumb", headers=admin.headers(), json={"query": "w=70"})
    assert changed.status_code == 200, changed.text
    assert await _width(http, photo["id"], "thumb") == 70  # the warm path forgot what `thumb` meant before

    listed = (await http.get("/v2/admin/presets", headers=admin.headers())).json()["data"]
    assert [(p["name"], p["query"], p["updatedByUsername"]) for p in listed] == [
        ("card", "w=120&h=90&fit=cover", None),
        ("thumb", "w=70", "root"),
    ]
    deleted = await http.delete("/v2/admin/presets/thumb", headers=admin.headers())
    assert deleted.status_code == 204
    assert await _width(http, photo["id"], "thumb") is None
    assert await _width(http, photo["id"], "card") == 120


@pytest.mark.parametrize(
    ("body", "status", "field", "names"),
    [
        ({"name": "x", "query": "w=abc"}, 400, "query", "w"),
        ({"name": "x", "query": "blur=-1"}, 400, "query", "blur"),
        ({"name": "x", "query": "size=3"}, 400, "query", "size"),
        ({"name": "x", "query": "w=10&w=20"}, 400, "query", "w"),
        ({"name": "x", "query": "preset=card"}, 400, "query", "preset"),
        ({"name": "x", "query": "fit=squash"}, 400, "query", "fit"),
        ({"name": "Bad Name", "query": "w=10"}, 400, "name", ""),
        ({"name": "card", "query": "w=10"}, 409, "name", "card"),
    ],
)
@pytest.mark.parametrize("settings_overrides", [CONFIGURED])
async def test_a_bad_preset_is_refused_naming_what_is_wrong(
    http: httpx.AsyncClient, admin: Account, body: dict[str, Any], status: int, field: str, names: str
) -> None:
    response = await http.post("/v2/admin/presets", headers=admin.headers(), json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert names in error["message"]
    listed = (await http.get("/v2/admin/presets", headers=admin.headers())).json()["data"]
    assert [p["name"] for p in listed] == ["card"]


@pytest.mark.parametrize("settings_overrides", [CONFIGURED])
async def test_configured_presets_are_read_only_and_names_are_unique(http: httpx.AsyncClient, admin: Account) -> None:
    assert (
        await http.patch("/v2/admin/presets/card", headers=admin.headers(), json={"eager": True})
    ).status_code == 409
    assert (await http.delete("/v2/admin/presets/card", headers=admin.headers())).status_code == 409
    assert (
        await http.patch("/v2/admin/presets/nope", headers=admin.headers(), json={"eager": True})
    ).status_code == 404
    assert (await http.delete("/v2/admin/presets/nope", headers=admin.headers())).status_code == 404
    new = {"name": "small", "query": "w=10"}
    assert (await http.post("/v2/admin/presets", headers=admin.headers(), json=new)).status_code == 201
    again = await http.post("/v2/admin/presets", headers=admin.headers(), json=new)
    assert again.status_code == 409
    bad = await http.patch("/v2/admin/presets/small", headers=admin.headers(), json={"query": "rotate=45"})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "query"


async def test_only_admin_accounts_manage_presets(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    user = await make_account(runtime)
    for headers, status in (({}, 401), (tenant.headers("alice"), 401), (user.headers(), 403)):
        assert (await http.get("/v2/admin/presets", headers=headers)).status_code == status
        posted = await http.post("/v2/admin/presets", headers=headers, json={"name": "x", "query": "w=1"})
        assert posted.status_code == status
    assert runtime.presets.current().queries == {}


@pytest.mark.parametrize("settings_overrides", [{"server": {"settings_cache_seconds": 0.2}}])
async def test_another_instance_applies_a_change_within_the_cache_time(
    http: httpx.AsyncClient, settings: Settings, admin: Account, photo: dict[str, Any]
) -> None:
    other = create_app(settings)  # a second process on the same database
    async with (
        other.router.lifespan_context(other),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://testserver") as there,
    ):
        assert await _width(there, photo["id"], "wide") is None
        made = await http.post("/v2/admin/presets", headers=admin.headers(), json={"name": "wide", "query": "w=90"})
        assert made.status_code == 201
        await _eventually(lambda: _width(there, photo["id"], "wide"), 90)
        await http.patch("/v2/admin/presets/wide", headers=admin.headers(), json={"query": "w=60"})
        await _eventually(lambda: _width(there, photo["id"], "wide"), 60)  # warm path memo included


async def _eventually(probe: Callable[[], Awaitable[int | None]], expected: int, seconds: float = 10) -> None:
    with anyio.fail_after(seconds):
        while await probe() != expected:
            await anyio.sleep(0.1)


# --- eager presets on every upload path ---

Uploader = Callable[[httpx.AsyncClient, Runtime, ApiClient], Awaitable[str]]


async def _v2(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> str:
    return str((await upload(http, tenant, img.make_jpeg(400, 300), user="alice"))["id"])


async def _tus(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> str:
    data = img.make_jpeg(400, 300)
    meta = "filename " + base64.b64encode(b"p.jpg").decode()
    headers = TUS | tenant.headers("alice")
    created = await http.post(
        "/v2/uploads", headers=headers | {"Upload-Length": str(len(data)), "Upload-Metadata": meta}
    )
    assert created.status_code == 201, created.text
    url = httpx.URL(created.headers["location"]).path
    half = len(data) // 2
    for offset, piece in ((0, data[:half]), (half, data[half:])):
        sent = headers | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        assert (await http.patch(url, headers=sent, content=piece)).status_code == 204
    return str((await http.get(url, headers=tenant.headers("alice"))).json()["id"])


async def _slink(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> str:
    account = await make_account(runtime)
    files = {"image": ("p.jpg", img.make_jpeg(400, 300), "image/jpeg")}
    response = await http.post("/api/upload", headers=account.headers(), files=files)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _uploadkey(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> str:
    headers = await upload_key_headers(runtime, await make_account(runtime))
    files = {"file": ("p.jpg", img.make_jpeg(400, 300), "image/jpeg")}
    response = await http.post("/uploadkey/api/upload", headers=headers, files=files)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _userimages(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> str:
    files = [("file", ("image.jpg", img.make_jpeg(400, 300), "image/jpeg"))]
    response = await http.post("/api/users/user/u1/images", headers={"X-API-Key": tenant.key}, files=files)
    assert response.status_code == 200, response.text
    return str(response.json()["files"][0]["data"]["key"]).rsplit(".", 1)[0]


UPLOADERS: dict[str, Uploader] = {
    "v2": _v2,
    "tus": _tus,
    "slink": _slink,
    "uploadkey": _uploadkey,
    "userimages": _userimages,
}


EAGER_CARD: dict[str, Any] = {"transforms": {**CONFIGURED["transforms"], "eager_presets": ["card"]}}


@pytest.mark.parametrize("path", sorted(UPLOADERS))
@pytest.mark.parametrize("settings_overrides", [EAGER_CARD])
async def test_every_upload_path_renders_the_eager_presets(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, path: str
) -> None:
    image_id = await UPLOADERS[path](http, runtime, tenant)
    await runtime.variants.drain()
    assert runtime.variants.renders == 3  # AVIF, WebP and JPEG
    for accept, fmt in ((CHROME, "avif"), (SAFARI_15, "webp"), (CURL, "jpeg")):
        response = await http.get(f"/v2/images/{image_id}", params={"preset": "card"}, headers={"Accept": accept})
        img.assert_image(response.content, format=fmt, width=120, height=90)
    assert runtime.variants.renders == 3  # every first view was already made


async def test_a_preset_an_admin_marks_eager_is_rendered_after_uploads(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    made = {"name": "hero", "query": "w=200&format=webp", "eager": True}
    assert (await http.post("/v2/admin/presets", headers=admin.headers(), json=made)).status_code == 201
    image_id = await _tus(http, runtime, tenant)
    await runtime.variants.drain()
    assert runtime.variants.renders == 1  # the format is named: nothing to negotiate
    response = await http.get(f"/v2/images/{image_id}", params={"preset": "hero"})
    img.assert_image(response.content, format="webp", width=200, height=150)
    assert runtime.variants.renders == 1
    await http.patch("/v2/admin/presets/hero", headers=admin.headers(), json={"eager": False})
    await _v2(http, runtime, tenant)
    await runtime.variants.drain()
    assert runtime.variants.renders == 1


@pytest.mark.parametrize("settings_overrides", [EAGER_CARD])
async def test_a_new_avatar_is_rendered_eagerly_too(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    files = {"file": ("me.jpg", img.make_jpeg(400, 300), "image/jpeg")}
    saved = await http.post("/v2/avatars", headers=tenant.headers(), files=files, data={"externalUserId": "alice"})
    assert saved.status_code == 201, saved.text
    await runtime.variants.drain()
    assert runtime.variants.renders == 1  # avatars are served as asked: no negotiation
    response = await http.get("/v2/avatars/alice", params={"preset": "card"}, headers=tenant.headers())
    img.assert_image(response.content, format="jpeg", width=120, height=90)
    assert runtime.variants.renders == 1
