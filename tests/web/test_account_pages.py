"""The account page over httpx: password change, personal API keys (shown once), upload keys and ShareX configs."""

from __future__ import annotations

import json

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.accounthelpers import PASSWORD, make_account
from tests.support.images import make_jpeg
from tests.web.conftest import ClientFactory
from tests.web.webhelpers import Browser, browser, sign_in

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a different long passphrase"


def shown_key(page: str) -> str:
    return page.split('id="new-key" readonly value="', 1)[1].split('"', 1)[0]


async def test_personal_key_is_shown_once_works_and_can_be_revoked(signed_in: Browser, http: httpx.AsyncClient) -> None:
    created = await signed_in.post_form("/account/keys", {"name": "backup <script>"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    key = shown_key(created.text)
    assert key.startswith("sk_")
    assert "backup &lt;script&gt;" in created.text
    listed = (await http.get("/account")).text
    assert key not in listed
    assert key[:10] in listed
    async with httpx.AsyncClient(transport=http._transport, base_url="http://testserver") as script:
        headers = {"Authorization": f"Bearer {key}"}
        assert (await script.get("/v2/images", headers=headers)).status_code == 200
        key_id = listed.split('action="/account/keys/', 1)[1].split("/revoke", 1)[0]
        revoked = await signed_in.post_form(f"/account/keys/{key_id}/revoke")
        assert revoked.headers["location"] == "/account"
        assert (await script.get("/v2/images", headers=headers)).status_code == 401
    assert (await signed_in.post_form(f"/account/keys/{key_id}/revoke")).status_code == 404


async def test_upload_key_and_its_sharex_config(signed_in: Browser, http: httpx.AsyncClient) -> None:
    created = await signed_in.post_form("/account/upload-keys", {"name": "laptop"})
    assert created.status_code == 201
    key = shown_key(created.text)
    assert key.startswith("uk_")
    page = (await http.get("/account")).text
    key_id = page.split('href="/account/upload-keys/', 1)[1].split("/sharex", 1)[0]
    download = await http.get(f"/account/upload-keys/{key_id}/sharex")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="pinhole-laptop.sxcu"'
    config = json.loads(download.text)
    assert config["RequestURL"] == "http://testserver/v2/images"
    assert config["Headers"] == {"X-Upload-Key": key}
    async with httpx.AsyncClient(transport=http._transport, base_url="http://testserver") as sharex:
        uploaded = await sharex.post(
            "/v2/images", headers=config["Headers"], files={"file": ("s.jpg", make_jpeg(10, 10), "image/jpeg")}
        )
    assert uploaded.status_code == 201
    assert (await signed_in.post_form(f"/account/upload-keys/{key_id}/revoke")).status_code == 303
    assert (await http.get(f"/account/upload-keys/{key_id}/sharex")).status_code == 404


async def test_keys_of_another_account_are_not_found(
    signed_in: Browser, runtime: Runtime, new_client: ClientFactory
) -> None:
    await signed_in.post_form("/account/upload-keys", {"name": "mine"})
    await signed_in.post_form("/account/keys", {"name": "mine"})
    page = (await signed_in.http.get("/account")).text
    upload_key_id = page.split('href="/account/upload-keys/', 1)[1].split("/sharex", 1)[0]
    key_id = page.split('action="/account/keys/', 1)[1].split("/revoke", 1)[0]
    await make_account(runtime, "bob")
    bob = await browser(await new_client(), "bob", PASSWORD)
    assert (await bob.http.get(f"/account/upload-keys/{upload_key_id}/sharex")).status_code == 404
    assert (await bob.post_form(f"/account/upload-keys/{upload_key_id}/revoke")).status_code == 404
    assert (await bob.post_form(f"/account/keys/{key_id}/revoke")).status_code == 404
    assert "mine" not in (await bob.http.get("/account")).text
    assert page.count("Revoke</button>") == 2


async def test_change_password(signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory) -> None:
    other = await browser(await new_client(), "alice", PASSWORD)  # a second browser, signed out by the change
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "new2": NEW_PASSWORD}
    wrong = await signed_in.post_form("/account/password", form | {"current": "not it at all"})
    assert wrong.status_code == 401
    assert "The current password is wrong." in wrong.text
    mismatch = await signed_in.post_form("/account/password", form | {"new2": "something else entirely"})
    assert mismatch.status_code == 400
    weak = await signed_in.post_form("/account/password", form | {"new": "short", "new2": "short"})
    assert weak.status_code == 400
    changed = await signed_in.post_form("/account/password", form)
    assert changed.headers["location"] == "/account"
    assert "Your password is changed." in (await http.get("/account")).text  # this session stays
    assert (await other.http.get("/account")).status_code == 303
    async with httpx.AsyncClient(transport=http._transport, base_url="http://testserver") as fresh:
        assert (await sign_in(fresh, "alice", PASSWORD)).status_code == 401
        assert (await sign_in(fresh, "alice", NEW_PASSWORD)).status_code == 303
