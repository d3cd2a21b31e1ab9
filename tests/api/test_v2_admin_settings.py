"""`GET|PATCH /v2/admin/settings`: admin accounts only, typed values, null resets; and the effect of a change on
the web pages, the v2 API and the slink dialect (all read the same run-time settings)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from tests.api.accounthelpers import Account, make_account, personal_key_headers
from tests.conftest import ApiClient
from tests.support.images import make_jpeg
from tests.web.webhelpers import hidden

pytestmark = pytest.mark.anyio

GUESTS_ON: dict[str, Any] = {"accounts": {"guest_uploads": True}}
SIGNUP_ON: dict[str, Any] = {"web": {"signup": True}}


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


async def _patch(http: httpx.AsyncClient, admin: Account, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    response = await http.patch("/v2/admin/settings", headers=admin.headers(), json=body)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def _by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in body["data"]}


async def test_lists_the_settings_with_their_source(http: httpx.AsyncClient, admin: Account) -> None:
    response = await http.get("/v2/admin/settings", headers=admin.headers())
    assert response.status_code == 200
    found = _by_key(response.json())
    assert set(found) == {"guestUploads", "signup"}
    assert found["signup"] == {
        "key": "signup",
        "type": "boolean",
        "description": "Let anyone create an account on the web app's sign-up page.",
        "value": False,
        "configured": False,
        "overridden": False,
        "updatedBy": None,
        "updatedByUsername": None,
        "updatedAt": None,
    }


async def test_patch_overrides_and_null_resets(http: httpx.AsyncClient, admin: Account) -> None:
    changed = _by_key(await _patch(http, admin, {"guestUploads": True, "signup": True}))
    assert {key: (item["value"], item["overridden"]) for key, item in changed.items()} == {
        "guestUploads": (True, True),
        "signup": (True, True),
    }
    assert changed["signup"]["updatedBy"] == admin.id
    assert changed["signup"]["updatedByUsername"] == "root"
    assert changed["signup"]["updatedAt"] is not None

    partly = _by_key(await _patch(http, admin, {"signup": None}))  # only what is sent changes
    assert (partly["signup"]["value"], partly["signup"]["overridden"], partly["signup"]["updatedBy"]) == (
        False,
        False,
        None,
    )
    assert partly["guestUploads"]["value"] is True
    assert _by_key(await _patch(http, admin, {}))["guestUploads"]["overridden"] is True


@pytest.mark.parametrize(
    "body", [{"signup": "false"}, {"signup": 1}, {"guestUploads": "on"}, {"maxFileBytes": 10}, {"signup": [True]}]
)
async def test_patch_refuses_values_of_another_type_and_unknown_keys(
    http: httpx.AsyncClient, admin: Account, body: dict[str, Any]
) -> None:
    response = await http.patch("/v2/admin/settings", headers=admin.headers(), json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert response.json()["error"]["field"] == next(iter(body))
    listed = await http.get("/v2/admin/settings", headers=admin.headers())
    assert not any(item["overridden"] for item in listed.json()["data"])


async def test_only_admin_accounts(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    user = await make_account(runtime)
    admin = await make_account(runtime, role=Role.ADMIN)
    callers: list[tuple[dict[str, str], int]] = [
        ({}, 401),
        (tenant.headers(), 401),
        (tenant.headers("someone"), 401),
        (await personal_key_headers(runtime, admin), 401),  # an sk_ key is not a signed-in account
        (user.headers(), 403),
    ]
    for headers, status in callers:
        assert (await http.get("/v2/admin/settings", headers=headers)).status_code == status
        patched = await http.patch("/v2/admin/settings", headers=headers, json={"signup": True})
        assert patched.status_code == status
    assert await runtime.app_settings.signup() is False


async def _v2_guest_upload(http: httpx.AsyncClient) -> int:
    files = {"file": ("guest.jpg", make_jpeg(60, 40), "image/jpeg")}
    return (await http.post("/v2/images", files=files)).status_code


async def _slink_guest_upload(http: httpx.AsyncClient) -> httpx.Response:
    return await http.post("/api/guest/upload", files={"image": ("guest.jpg", make_jpeg(60, 40), "image/jpeg")})


@pytest.mark.parametrize("settings_overrides", [GUESTS_ON])
async def test_guest_uploads_off_is_seen_by_every_api_and_the_web(http: httpx.AsyncClient, admin: Account) -> None:
    assert await _v2_guest_upload(http) == 201
    assert (await _slink_guest_upload(http)).status_code == 201
    assert "upload as a guest" in (await http.get("/login")).text
    assert (await http.get("/upload")).status_code == 200

    await _patch(http, admin, {"guestUploads": False})
    refused = await _slink_guest_upload(http)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Guest uploads are disabled on this server."
    assert await _v2_guest_upload(http) == 401
    assert "upload as a guest" not in (await http.get("/login")).text
    page = await http.get("/upload", follow_redirects=True)
    assert str(page.url).endswith("/login?next=/upload")
    assert "Guest uploads are turned off on this server" in page.text

    await _patch(http, admin, {"guestUploads": None})  # back to the configured value: on
    assert (await _slink_guest_upload(http)).status_code == 201


async def test_guest_uploads_on_by_an_admin(http: httpx.AsyncClient, admin: Account) -> None:
    assert (await _slink_guest_upload(http)).status_code == 403
    await _patch(http, admin, {"guestUploads": True})
    assert (await _slink_guest_upload(http)).status_code == 201
    assert await _v2_guest_upload(http) == 201


@pytest.mark.parametrize("settings_overrides", [SIGNUP_ON])
async def test_sign_up_off_closes_the_sign_up_page_and_route(http: httpx.AsyncClient, admin: Account) -> None:
    page = await http.get("/signup")
    assert page.status_code == 200
    assert 'href="/signup"' in (await http.get("/login")).text
    form = {"csrf": hidden(page.text), "email": "new@example.com", "password": "a long enough passphrase"}

    await _patch(http, admin, {"signup": False})
    assert (await http.get("/signup")).status_code == 404
    refused = await http.post("/signup", data=form | {"password2": form["password"]})
    assert refused.status_code == 404
    assert "Sign-up is not open" in refused.text
    assert 'href="/signup"' not in (await http.get("/login")).text
    listed = await http.get("/v2/admin/settings", headers=admin.headers())
    assert _by_key(listed.json())["signup"]["configured"] is True


async def test_sign_up_on_by_an_admin(http: httpx.AsyncClient, admin: Account) -> None:
    assert (await http.get("/signup")).status_code == 404
    await _patch(http, admin, {"signup": True})
    assert (await http.get("/signup")).status_code == 200


async def test_documented_in_openapi(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert set(paths["/v2/admin/settings"]) == {"get", "patch"}
    body = paths["/v2/admin/settings"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/RuntimeSettingsUpdate")
