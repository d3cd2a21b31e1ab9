"""One image, two APIs: what the uploadkey API uploads, v2 shows to the same account, and a delete through either
API removes it from both."""

from __future__ import annotations

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.accounthelpers import PASSWORD, make_account
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio


async def browser(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post("/uploadkey/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["pinhole_session"]
    http.cookies.clear()
    return {"Cookie": f"pinhole_session={cookie}", "X-CSRF-Token": response.json()["csrfToken"]}


async def v2_ids(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await http.get("/v2/images", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def test_uploaded_here_seen_and_deleted_through_v2(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    session = await browser(http, account.username)
    uploaded = await http.post(
        "/uploadkey/api/upload",
        headers=session,
        files={"file": ("x.jpg", make_jpeg(20, 10), "image/jpeg")},
        data={"private": "true"},
    )
    assert uploaded.status_code == 200, uploaded.text
    image_id = uploaded.json()["uuid"]
    assert await v2_ids(http, account.headers()) == [image_id]
    info = await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=account.headers())
    assert info.json()["isPrivate"] is True
    assert (info.json()["width"], info.json()["height"]) == (20, 10)
    other = await make_account(runtime)
    assert await v2_ids(http, other.headers()) == []

    assert (await http.delete(f"/v2/images/{image_id}", headers=account.headers())).status_code == 204
    assert (await http.get(f"/uploadkey/api/images/{image_id}", headers=session)).status_code == 404
    assert (await http.get("/uploadkey/api/list", headers=session)).json()["data"] == []
    key = uploaded.json()["key"]
    assert (await http.get(f"/uploadkey/{image_id}.jpg", params={"key": key})).status_code == 404


async def test_uploaded_through_v2_seen_and_deleted_here(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    uploaded = await http.post(
        "/v2/images", headers=account.headers(), files={"file": ("y.jpg", make_jpeg(12, 12), "image/jpeg")}
    )
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["id"]
    session = await browser(http, account.username)
    listed = (await http.get("/uploadkey/api/list", headers=session)).json()["data"]
    assert [item["uuid"] for item in listed] == [image_id]
    assert (await http.get(f"/uploadkey/{image_id}.png")).headers["content-type"] == "image/png"

    deleted = await http.delete(f"/uploadkey/api/delete/{image_id}", headers=session)
    assert deleted.status_code == 200, deleted.text
    assert await v2_ids(http, account.headers()) == []
    assert (
        await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=account.headers())
    ).status_code == 404


async def test_made_private_through_v2_the_owner_reads_the_key_here(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    uploaded = await http.post(
        "/v2/images", headers=account.headers(), files={"file": ("z.jpg", make_jpeg(12, 12), "image/jpeg")}
    )
    image_id = uploaded.json()["id"]
    changed = await http.patch(f"/v2/images/{image_id}", json={"isPrivate": True}, headers=account.headers())
    assert changed.status_code == 200, changed.text
    assert (await http.get(f"/uploadkey/{image_id}.jpg")).status_code == 404
    details = await http.get(f"/uploadkey/api/images/{image_id}", headers=account.headers())
    key = details.json()["key"]
    assert isinstance(key, str)
    assert (await http.get(f"/uploadkey/{image_id}.jpg", params={"key": key})).status_code == 200
