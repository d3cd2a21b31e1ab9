"""Personal `sk_` keys and upload keys through `/v2/account/...`: shown once, hashed, expiring, revocable, scoped."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from pinhole.db.models import ApiKey, utcnow
from pinhole.runtime import Runtime
from pinhole.services import users
from tests.api.accounthelpers import Account, make_account, personal_key_headers, upload_key_headers
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio

KEYS = "/v2/account/keys"
UPLOAD_KEYS = "/v2/account/upload-keys"


@pytest.fixture
async def alice(runtime: Runtime) -> Account:
    return await make_account(runtime, "alice")


@pytest.fixture
async def bob(runtime: Runtime) -> Account:
    return await make_account(runtime, "bob")


async def _create(http: httpx.AsyncClient, account: Account, path: str = KEYS, **body: Any) -> dict[str, Any]:
    response = await http.post(path, headers=account.headers(), json=body)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created: dict[str, Any] = response.json()
    return created


async def _listed(http: httpx.AsyncClient, account: Account, path: str = KEYS) -> list[dict[str, Any]]:
    response = await http.get(path, headers=account.headers())
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _upload_with(http: httpx.AsyncClient, headers: dict[str, str], expect: int = 201) -> dict[str, Any]:
    response = await http.post(
        "/v2/images", headers=headers, files={"file": ("a.jpg", make_jpeg(40, 30), "image/jpeg")}
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_personal_key_is_shown_once_and_listed_without_it(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice, name="backup script")
    assert re.fullmatch(r"sk_[0-9a-f]{64}", created["key"])
    assert created["name"] == "backup script"
    assert created["prefix"] == created["key"][:10]
    assert created["expiresAt"] is None
    assert created["lastUsedAt"] is None
    response = await http.get(KEYS, headers=alice.headers())
    assert created["key"] not in response.text
    [listed] = response.json()["data"]
    assert listed == {k: v for k, v in created.items() if k != "key"}
    assert set(listed) == {"id", "name", "prefix", "createdAt", "expiresAt", "lastUsedAt"}


async def test_a_key_without_a_body_gets_a_default_name(http: httpx.AsyncClient, alice: Account) -> None:
    response = await http.post(KEYS, headers=alice.headers())
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "API key"


async def test_personal_key_works_and_records_its_last_use(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice)
    image = await _upload_with(http, _bearer(created["key"]))
    listing = await http.get("/v2/images", headers=_bearer(created["key"]))
    assert listing.status_code == 200
    assert [i["id"] for i in listing.json()["data"]] == [image["id"]]
    assert image["externalUserId"] == alice.id
    [listed] = await _listed(http, alice)
    assert listed["lastUsedAt"] is not None


@pytest.mark.parametrize(
    ("expires_at", "field"),
    [("2000-01-01T00:00:00Z", "expiresAt"), ("2999-01-01T00:00:00", "expiresAt"), ("soon", "expiresAt")],
    ids=["past", "no-time-zone", "not-a-date"],
)
async def test_bad_expiry_is_refused(http: httpx.AsyncClient, alice: Account, expires_at: str, field: str) -> None:
    response = await http.post(KEYS, headers=alice.headers(), json={"expiresAt": expires_at})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert await _listed(http, alice) == []


async def test_expired_key_is_refused(http: httpx.AsyncClient, runtime: Runtime, alice: Account) -> None:
    expires = (utcnow() + timedelta(days=1)).isoformat()
    created = await _create(http, alice, expiresAt=expires)
    assert created["expiresAt"].startswith(expires[:19])
    assert (await http.get("/v2/images", headers=_bearer(created["key"]))).status_code == 200
    async with runtime.db.writer() as session:
        past = utcnow() - timedelta(seconds=1)
        await session.execute(update(ApiKey).where(ApiKey.id == created["id"]).values(expires_at=past))
    refused = await http.get("/v2/images", headers=_bearer(created["key"]))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"


async def test_revoked_key_stops_at_once(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice)
    assert (await http.get("/v2/images", headers=_bearer(created["key"]))).status_code == 200
    revoked = await http.delete(f"{KEYS}/{created['id']}", headers=alice.headers())
    assert revoked.status_code == 204
    assert (await http.get("/v2/images", headers=_bearer(created["key"]))).status_code == 401
    assert await _listed(http, alice) == []
    again = await http.delete(f"{KEYS}/{created['id']}", headers=alice.headers())
    assert again.status_code == 404


async def test_another_accounts_keys_are_not_found(http: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    bobs_key = await _create(http, bob)
    bobs_upload_key = await _create(http, bob, UPLOAD_KEYS)
    attempts = [
        http.delete(f"{KEYS}/{bobs_key['id']}", headers=alice.headers()),
        http.delete(f"{UPLOAD_KEYS}/{bobs_upload_key['id']}", headers=alice.headers()),
        http.get(f"{UPLOAD_KEYS}/{bobs_upload_key['id']}/sharex", headers=alice.headers()),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404, response.text
        assert bobs_upload_key["key"] not in response.text
    assert await _listed(http, alice) == []
    assert await _listed(http, alice, UPLOAD_KEYS) == []
    assert (await http.get("/v2/images", headers=_bearer(bobs_key["key"]))).status_code == 200
    assert len(await _listed(http, bob, UPLOAD_KEYS)) == 1


@pytest.mark.parametrize("path", [KEYS, UPLOAD_KEYS])
async def test_keys_cannot_manage_keys(
    http: httpx.AsyncClient, runtime: Runtime, alice: Account, tenant: ApiClient, path: str
) -> None:
    key_id = (await _create(http, alice, path))["id"]
    for headers in (
        await personal_key_headers(runtime, alice),
        await upload_key_headers(runtime, alice),
        tenant.headers(alice.id),
        {},
    ):
        assert (await http.get(path, headers=headers)).status_code == 401
        assert (await http.post(path, headers=headers, json={})).status_code == 401
        assert (await http.delete(f"{path}/{key_id}", headers=headers)).status_code == 401
    assert key_id in {k["id"] for k in await _listed(http, alice, path)}


async def test_upload_key_uploads_as_its_account_and_does_nothing_else(
    http: httpx.AsyncClient, runtime: Runtime, alice: Account
) -> None:
    created = await _create(http, alice, UPLOAD_KEYS, name="ShareX")
    assert created["key"].startswith("uk_")
    assert set(created) == {"id", "name", "prefix", "createdAt", "lastUsedAt", "sharexUrl", "key"}
    by_header = await _upload_with(http, {"X-Upload-Key": created["key"]})
    by_bearer = await _upload_with(http, _bearer(created["key"]))
    for image in (by_header, by_bearer):
        assert image["externalUserId"] == alice.id
        assert image["isPrivate"] is False
    mine = await http.get("/v2/images", headers=alice.headers())
    assert {i["id"] for i in mine.json()["data"]} == {by_header["id"], by_bearer["id"]}

    only_upload = {"X-Upload-Key": created["key"]}
    listing = await http.get("/v2/images", headers=only_upload)
    assert listing.status_code == 403
    image_url = f"/v2/images/{by_header['id']}"
    assert (await http.get(image_url, params={"info": "true"}, headers=only_upload)).status_code == 404
    assert (await http.patch(image_url, json={"description": "x"}, headers=only_upload)).status_code == 404
    assert (await http.delete(image_url, headers=only_upload)).status_code == 404
    assert (await http.post(f"{image_url}/share", headers=only_upload)).status_code == 404
    assert (await http.get(image_url, params={"info": "true"}, headers=alice.headers())).status_code == 200
    [listed] = await _listed(http, alice, UPLOAD_KEYS)
    assert listed["lastUsedAt"] is not None
    assert "key" not in listed


async def test_revoked_upload_key_stops_and_loses_its_sharex_config(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice, UPLOAD_KEYS)
    assert (await http.delete(f"{UPLOAD_KEYS}/{created['id']}", headers=alice.headers())).status_code == 204
    refused = await http.post(
        "/v2/images", headers={"X-Upload-Key": created["key"]}, files={"file": ("a.jpg", make_jpeg(8, 8))}
    )
    assert refused.status_code == 401
    assert (await http.get(created["sharexUrl"], headers=alice.headers())).status_code == 404


def _json_path(template: str, document: dict[str, Any]) -> Any:
    """ShareX's `{json:a.b}` syntax, for the one-placeholder values pinhole writes."""
    match = re.fullmatch(r"\{json:([\w.]+)\}", template)
    assert match, template
    value: Any = document
    for part in match.group(1).split("."):
        value = value[part]
    return value


async def test_sharex_config_uploads_with_exactly_what_it_says(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice, UPLOAD_KEYS, name="My PC / ShareX")
    assert created["sharexUrl"] == f"http://testserver{UPLOAD_KEYS}/{created['id']}/sharex"
    response = await http.get(created["sharexUrl"], headers=alice.headers())
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="pinhole-My-PC-ShareX.sxcu"'
    assert response.headers["cache-control"] == "no-store"
    config = response.json()
    assert config == {
        "Version": config["Version"],
        "Name": "testserver (My PC / ShareX)",
        "DestinationType": "ImageUploader",
        "RequestMethod": "POST",
        "RequestURL": "http://testserver/v2/images",
        "Headers": {"X-Upload-Key": created["key"]},
        "Body": "MultipartFormData",
        "FileFormName": "file",
        "URL": "{json:url}",
        "ErrorMessage": "{json:error.message}",
    }
    assert int(config["Version"].split(".")[0]) >= 14  # the {json:...} syntax; older versions get converted

    def send(body: bytes) -> Any:
        files = {config["FileFormName"]: ("Screenshot.jpg", body, "image/jpeg")}
        return http.request(config["RequestMethod"], config["RequestURL"], headers=config["Headers"], files=files)

    uploaded = await send(make_jpeg(120, 80))
    assert uploaded.status_code == 201, uploaded.text
    link = _json_path(config["URL"], uploaded.json())
    assert link == f"http://testserver/v2/images/{uploaded.json()['id']}"
    assert (await http.get(link)).status_code == 200
    refused = await send(b"not an image")
    assert refused.status_code == 415
    assert "format" in _json_path(config["ErrorMessage"], refused.json())
    again = await http.get(created["sharexUrl"], headers=alice.headers())
    assert again.json() == config


@pytest.mark.parametrize("settings_overrides", [{"server": {"public_url": "https://img.example.com/"}}])
async def test_sharex_config_uses_the_public_url(http: httpx.AsyncClient, alice: Account) -> None:
    created = await _create(http, alice, UPLOAD_KEYS)
    assert created["sharexUrl"].startswith("https://img.example.com/v2/account/upload-keys/")
    config = (await http.get(f"{UPLOAD_KEYS}/{created['id']}/sharex", headers=alice.headers())).json()
    assert config["RequestURL"] == "https://img.example.com/v2/images"
    assert config["Name"] == "img.example.com (Upload key)"


@pytest.mark.parametrize("path", [KEYS, UPLOAD_KEYS])
@pytest.mark.parametrize("name", [" ", "x" * 101, "tab\there"])
async def test_key_names_are_checked(http: httpx.AsyncClient, alice: Account, path: str, name: str) -> None:
    response = await http.post(path, headers=alice.headers(), json={"name": name})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "name"


async def test_not_active_accounts_keys_stop_and_sessions_end(
    http: httpx.AsyncClient, runtime: Runtime, alice: Account
) -> None:
    sk = await personal_key_headers(runtime, alice)
    uk = await upload_key_headers(runtime, alice)
    await users.set_status(runtime.db, alice.id, users.Status.SUSPENDED)
    assert (await http.get("/v2/images", headers=sk)).status_code == 401
    assert (await http.get("/v2/images", headers=alice.headers())).status_code == 401
    await _upload_with(http, uk, expect=401)
    await users.set_status(runtime.db, alice.id, users.Status.ACTIVE)
    assert (await http.get("/v2/images", headers=sk)).status_code == 200
    await _upload_with(http, uk)
    assert (await http.get("/v2/images", headers=alice.headers())).status_code == 401  # the session stays ended


async def test_no_key_reaches_the_log(
    http: httpx.AsyncClient, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    personal = await _create(http, alice)
    upload_key = await _create(http, alice, UPLOAD_KEYS)
    await http.get("/v2/images", headers=_bearer(personal["key"]))
    await _upload_with(http, {"X-Upload-Key": upload_key["key"]})
    await http.get(upload_key["sharexUrl"], headers=alice.headers())
    await http.get("/v2/images", headers=_bearer(personal["key"][:-1] + "0"))
    for secret in (personal["key"], upload_key["key"], alice.access_token):
        assert secret not in caplog.text
