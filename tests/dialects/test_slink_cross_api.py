"""One image, two APIs: what slink uploads, v2 shows to the same account (and the other way round); a delete
through either API removes it from both."""

from __future__ import annotations

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.accounthelpers import PASSWORD, make_account, personal_key_headers
from tests.api.v2helpers import stored_files
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio


async def v2_ids(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await http.get("/v2/images", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def slink_history(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await http.get("/api/images/history/1", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def test_uploaded_here_seen_and_deleted_through_v2(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    login = await http.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
    slink = {"Authorization": f"Bearer {login.json()['access_token']}"}
    uploaded = await http.post(
        "/api/upload", headers=slink, files={"image": ("x.jpg", make_jpeg(20, 10), "image/jpeg")}
    )
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["id"]
    key = await personal_key_headers(runtime, account)
    external = await http.put(
        "/api/external/upload", headers=key, files={"image": ("y.jpg", make_jpeg(12, 12), "image/jpeg")}
    )
    assert external.status_code == 201, external.text
    external_id = external.json()["id"]

    assert await v2_ids(http, account.headers()) == [external_id, image_id]
    info = await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=account.headers())
    assert (info.json()["width"], info.json()["height"]) == (20, 10)
    other = await make_account(runtime)
    assert await v2_ids(http, other.headers()) == [external_id, image_id]  # public, as uploaded
    hidden = await http.patch(f"/api/image/{image_id}", headers=slink, json={"isPublic": False})
    assert hidden.status_code == 204
    assert await v2_ids(http, other.headers()) == [external_id]
    info = await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=account.headers())
    assert info.json()["isPrivate"] is True

    assert (await http.delete(f"/v2/images/{image_id}", headers=account.headers())).status_code == 204
    assert (await http.get(f"/api/image/{image_id}/detail", headers=slink)).status_code == 404
    assert await slink_history(http, slink) == [external_id]
    assert (await http.get(f"/image/{image_id}.jpg", headers=slink)).status_code == 404


async def test_uploaded_through_v2_seen_and_deleted_here(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    slink = account.headers()  # the same JWT access token
    uploaded = await http.post(
        "/v2/images", headers=account.headers(), files={"file": ("y.jpg", make_jpeg(12, 12), "image/jpeg")}
    )
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["id"]
    assert await slink_history(http, slink) == [image_id]
    detail = (await http.get(f"/api/image/{image_id}/detail", headers=slink)).json()
    assert (detail["width"], detail["height"]) == (12, 12)

    assert (await http.delete(f"/api/image/{image_id}", headers=slink)).status_code == 204
    assert await v2_ids(http, account.headers()) == []
    assert (
        await http.get(f"/v2/images/{image_id}", params={"info": "true"}, headers=account.headers())
    ).status_code == 404
    assert stored_files(runtime.settings) == []
