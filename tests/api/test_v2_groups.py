"""Upload groups: several files in one `POST /v2/images`, stored all or nothing, then read, renamed and deleted
together; owned like images, invisible to other users and clients."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Blob, Client, Image, ImageGroup
from pinhole.runtime import Runtime
from tests.api.accounthelpers import make_account
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


async def _counts(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.db.reader() as session:
        counts = [await session.scalar(select(func.count()).select_from(t)) for t in (Image, Blob, ImageGroup)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def upload_many(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    files: list[tuple[str, bytes]],
    *,
    fields: dict[str, Any] | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    response = await http.post("/v2/images", headers=headers, files=parts, data=fields or {})
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def three_files() -> list[tuple[str, bytes]]:
    return [("a.jpg", img.make_jpeg(64, 48)), ("b.png", img.make_png(40, 30)), ("c.webp", img.make_webp(20, 20))]


async def test_several_files_make_a_group(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    body = await upload_many(http, tenant.headers("alice"), three_files(), fields={"tags": "trip", "isPrivate": "1"})

    group_id = body["groupId"]
    assert [image["originalName"] for image in body["data"]] == ["a.jpg", "b.png", "c.webp"]
    assert [image["format"] for image in body["data"]] == ["jpeg", "png", "webp"]
    assert {image["groupId"] for image in body["data"]} == {group_id}
    assert all(image["tags"] == ["trip"] and image["isPrivate"] for image in body["data"])
    assert await _counts(runtime) == (3, 3, 1)

    info = await http.get(f"/v2/images/{body['data'][1]['id']}?info=true", headers=tenant.headers("alice"))
    assert info.json()["groupId"] == group_id
    group = await http.get(f"/v2/groups/{group_id}", headers=tenant.headers("alice"))
    assert group.status_code == 200
    assert group.json()["externalUserId"] == "alice"
    assert group.json()["name"] is None
    assert [image["id"] for image in group.json()["images"]] == [image["id"] for image in body["data"]]


async def test_one_file_makes_no_group(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    body = await upload(http, tenant)
    assert body["groupId"] is None
    assert "data" not in body
    assert await _counts(runtime) == (1, 1, 0)


@pytest.mark.parametrize("bad", [b"not an image at all", img.truncated(img.make_jpeg(64, 48))])
async def test_one_bad_file_stores_nothing_and_is_named(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, bad: bytes
) -> None:
    files = three_files()
    files[1] = ("broken.png", bad)
    body = await upload_many(http, tenant.headers(), files, expect=body_status(bad))

    error = body["error"]
    assert error["message"].startswith("File 2 (broken.png): ")
    assert error["details"]["file"] == 1
    assert error["details"]["filename"] == "broken.png"
    assert await _counts(runtime) == (0, 0, 0)
    assert stored_files(runtime.settings) == []


def body_status(bad: bytes) -> int:
    return 415 if bad.startswith(b"not") else 422


async def test_quota_counts_the_whole_request(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    await upload(http, tenant, img.make_gif(8, 8))
    async with runtime.db.writer() as session:
        client = await session.get(Client, tenant.id)
        assert client is not None
        client.quota_images = 3

    body = await upload_many(http, tenant.headers(), three_files(), expect=403)
    assert body["error"]["code"] == "quota_exceeded"
    assert body["error"]["details"] == {"quota": "client_images", "limit": 3, "used": 1, "requested": 3}
    assert await _counts(runtime) == (1, 1, 0)
    await upload_many(http, tenant.headers(), three_files()[:2])
    assert await _counts(runtime) == (3, 3, 1)


async def test_identical_files_in_one_group_share_a_blob(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = img.make_jpeg(64, 48)
    body = await upload_many(http, tenant.headers(), [("a.jpg", data), ("b.jpg", data)])
    assert len(body["data"]) == 2
    assert await _counts(runtime) == (2, 1, 1)
    for image in body["data"]:
        assert (await http.get(f"/v2/images/{image['id']}")).status_code == 200


async def test_patch_names_and_describes_a_group(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    group_id = (await upload_many(http, tenant.headers("alice"), three_files()[:2]))["groupId"]
    url = f"/v2/groups/{group_id}"

    changed = await http.patch(url, headers=tenant.headers("alice"), json={"name": "Trip", "description": "Sea"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["description"]) == ("Trip", "Sea")
    assert len(changed.json()["images"]) == 2

    cleared = await http.patch(url, headers=tenant.headers("alice"), json={"description": None})
    assert (cleared.json()["name"], cleared.json()["description"]) == ("Trip", None)
    too_long = await http.patch(url, headers=tenant.headers("alice"), json={"name": "x" * 201})
    assert too_long.status_code == 400
    unknown = await http.patch(url, headers=tenant.headers("alice"), json={"colour": "red"})
    assert unknown.status_code == 400


async def test_delete_removes_the_group_and_its_images(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    kept = await upload(http, tenant, img.make_jpeg(64, 48), user="alice")  # shares its blob with a group image
    body = await upload_many(http, tenant.headers("alice"), three_files())
    group_id = body["groupId"]
    await http.get(f"/v2/images/{body['data'][1]['id']}?w=10")  # a variant, deleted with its original

    response = await http.delete(f"/v2/groups/{group_id}", headers=tenant.headers("alice"))
    assert response.status_code == 204

    assert (await http.get(f"/v2/groups/{group_id}", headers=tenant.headers("alice"))).status_code == 404
    for image in body["data"]:
        info = await http.get(f"/v2/images/{image['id']}?info=true", headers=tenant.headers("alice"))
        assert info.status_code == 404
    assert await _counts(runtime) == (1, 1, 0)
    assert (await http.get(f"/v2/images/{kept['id']}")).status_code == 200
    assert len(stored_files(runtime.settings)) == 1


async def test_deleting_the_last_image_deletes_the_group(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    body = await upload_many(http, tenant.headers(), three_files()[:2])
    first, second = (image["id"] for image in body["data"])
    assert (await http.delete(f"/v2/images/{first}", headers=tenant.headers())).status_code == 204
    group = await http.get(f"/v2/groups/{body['groupId']}", headers=tenant.headers())
    assert [image["id"] for image in group.json()["images"]] == [second]
    assert (await http.delete(f"/v2/images/{second}", headers=tenant.headers())).status_code == 204
    assert (await http.get(f"/v2/groups/{body['groupId']}", headers=tenant.headers())).status_code == 404
    assert await _counts(runtime) == (0, 0, 0)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_others_get_404(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient, method: str
) -> None:
    group_id = (await upload_many(http, tenant.headers("alice"), three_files()[:2]))["groupId"]
    account = await make_account(runtime, "olga")
    strangers = [other_tenant.headers("alice"), other_tenant.headers(), tenant.headers("bob"), account.headers()]
    for headers in strangers:
        response = await http.request(method, f"/v2/groups/{group_id}", headers=headers, json={"name": "mine"})
        assert response.status_code == 404, headers
        assert response.json()["error"]["code"] == "group_not_found"
    assert (await http.request(method, f"/v2/groups/{group_id}")).status_code == 401
    for missing in ("not-a-uuid", "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"):
        assert (await http.get(f"/v2/groups/{missing}", headers=tenant.headers("alice"))).status_code == 404
    group = await http.get(f"/v2/groups/{group_id}", headers=tenant.headers("alice"))
    assert group.json()["name"] is None
    assert len(group.json()["images"]) == 2


async def test_account_groups(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime, "olivia")
    body = await upload_many(http, owner.headers(), three_files()[:2])
    group = await http.get(f"/v2/groups/{body['groupId']}", headers=owner.headers())
    assert group.status_code == 200
    assert group.json()["externalUserId"] == owner.id
