"""The userimages API and the others over the same images: a client's user `userId` is v2's `X-User-Id` and
userphotos' `user_id`; what one API uploads the others show, what one deletes is gone from all."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.v2helpers import upload as v2_upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

USER = "user_67890"
BASE = f"/api/users/user/{USER}/images"


def key(client: ApiClient) -> dict[str, str]:
    return {"X-API-Key": client.key}


async def listed_ids(http: httpx.AsyncClient, client: ApiClient) -> list[str]:
    response = await http.get(BASE, headers=key(client))
    assert response.status_code == 200, response.text
    return [json.loads(item)["_id"] for item in response.json()]


async def v2_ids(http: httpx.AsyncClient, client: ApiClient) -> list[str]:
    response = await http.get("/v2/images", headers=client.headers(USER))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def test_a_userimages_upload_is_the_users_image_in_v2_and_a_v2_delete_removes_it(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    files = [("file", (f"{n}.jpg", img.make_jpeg(30 + n, 20), "image/jpeg")) for n in range(2)]
    body = (await http.post(BASE, headers=key(tenant), files=files)).json()
    ids = [f["data"]["key"].rsplit(".", 1)[0] for f in body["files"]]
    assert sorted(await v2_ids(http, tenant)) == sorted(ids)
    info = (await http.get(f"/v2/images/{ids[0]}?info=true", headers=tenant.headers(USER))).json()
    assert (info["externalUserId"], info["groupId"], info["width"]) == (USER, body["groupId"], 30)
    v2_group = await http.get(f"/v2/groups/{body['groupId']}", headers=tenant.headers(USER))
    assert v2_group.status_code == 200
    # Another user's userimages path does not show them.
    other = await http.get(f"/api/users/user/bob/images/{ids[0]}", headers=key(tenant))
    assert other.status_code == 404

    assert (await http.delete(f"/v2/images/{ids[0]}", headers=tenant.headers(USER))).status_code == 204
    assert (await http.get(f"{BASE}/{ids[0]}", headers=key(tenant))).status_code == 404
    assert await listed_ids(http, tenant) == [ids[1]]


async def test_a_v2_upload_shows_here_and_a_delete_here_removes_it_from_v2(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    image = await v2_upload(http, tenant, img.make_png(24, 24), user=USER)
    assert await listed_ids(http, tenant) == [image["id"]]
    record = (await http.get(f"{BASE}/{image['id']}", headers=key(tenant))).json()
    assert (record["key"], record["userId"], record["groupId"]) == (f"{image['id']}.png", USER, None)
    assert record["url"] == image["url"]

    deleted = await http.delete(f"{BASE}/{image['id']}", headers=key(tenant))
    assert deleted.json() == {"success": True, "deletedId": image["id"]}
    assert await v2_ids(http, tenant) == []
    assert (await http.get(f"/v2/images/{image['id']}?info=true", headers=tenant.headers(USER))).status_code == 404


async def test_a_v2_group_is_a_group_here_and_deleting_it_here_empties_v2(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    files = [("file", (f"{n}.jpg", img.make_jpeg(16 + n, 16), "image/jpeg")) for n in range(3)]
    response = await http.post("/v2/images", headers=tenant.headers(USER), files=files)
    assert response.status_code == 201, response.text
    group_id = response.json()["groupId"]
    ids = [item["id"] for item in response.json()["data"]]
    group = (await http.get(f"{BASE}/group/{group_id}", headers=key(tenant))).json()
    assert [r["_id"] for r in group["images"]] == ids
    removed = await http.delete(f"{BASE}/group/{group_id}", headers=key(tenant))
    assert removed.json()["deletedIds"] == ids
    assert await v2_ids(http, tenant) == []
    assert (await http.get(f"/v2/groups/{group_id}", headers=tenant.headers(USER))).status_code == 404


async def test_a_userphotos_upload_for_the_same_user_shows_here(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await http.post(
        "/v1/upload",
        headers={"Authorization": f"Bearer {tenant.key}"},
        data={"user_id": USER},
        files={"image": ("a.jpg", img.make_jpeg(20, 20), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    [image_id] = await listed_ids(http, tenant)
    assert image_id.replace("-", "").startswith(response.json()["image_id"].removeprefix("img_"))
    assert (await http.delete(f"{BASE}/{image_id}", headers=key(tenant))).status_code == 200
    assert (await http.get(response.json()["image_url"].removeprefix("http://testserver"))).status_code == 404
