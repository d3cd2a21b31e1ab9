"""The userimages API document, top to bottom, through the real app.

1. upload, 2. list, 3. get by id, 4. update, 5. delete, 6. group operations, then the implementation notes (rate
limit), authentication (the document shows none: pinhole's client keys, or a default client), errors and mounting.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from pinhole.runtime import Runtime
from pinhole.settings import Settings
from tests.api.accounthelpers import make_account, personal_key_headers
from tests.api.v2helpers import stored_files
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

USER = "user_67890"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RECORD_FIELDS = {"_id", "userId", "url", "key", "groupId", "createdAt"}


def base(user: str = USER) -> str:
    return f"/api/users/user/{user}/images"


def jpeg_files(count: int, *, field: str = "file") -> list[tuple[str, tuple[str, bytes, str]]]:
    # The document's Swift example names every file `image.jpg`.
    return [(field, ("image.jpg", img.make_jpeg(40 + n, 30), "image/jpeg")) for n in range(count)]


async def upload(
    http: httpx.AsyncClient,
    client: ApiClient,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    *,
    user: str = USER,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await http.post(
        base(user),
        headers={"X-API-Key": client.key} if headers is None else headers,
        files=jpeg_files(1) if files is None else files,
    )


async def uploaded(http: httpx.AsyncClient, client: ApiClient, count: int = 1, **kw: Any) -> dict[str, Any]:
    response = await upload(http, client, jpeg_files(count), **kw)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def image_id_of(file: dict[str, Any]) -> str:
    return str(file["data"]["key"]).rsplit(".", 1)[0]


def key(client: ApiClient) -> dict[str, str]:
    return {"X-API-Key": client.key}


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """pinhole's error shape (the document shows none): `{"error": {"code", "message", "status", "field"}}`."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "status", "field"} <= set(body["error"])
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field
    return body


def local(url: str) -> str:
    return url.removeprefix("http://testserver")


def assert_record(record: dict[str, Any], *, image_id: str, user: str = USER, group_id: str | None = None) -> None:
    assert set(record) == RECORD_FIELDS
    assert record["_id"] == image_id
    assert record["userId"] == user
    assert record["url"] == f"http://testserver/v2/images/{image_id}"
    assert record["key"] == f"{image_id}.jpg"
    assert record["groupId"] == group_id
    assert isinstance(record["createdAt"], int)


# --- 1. Upload Images -------------------------------------------------------------------------------------------


async def test_upload_of_several_files_answers_files_and_group_id(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 2)
    assert set(body) == {"success", "files", "groupId"}
    assert body["success"] is True
    assert len(body["files"]) == 2
    for file in body["files"]:
        assert set(file) == {"data"}
        assert set(file["data"]) == {"url", "key"}
        image_id = image_id_of(file)
        assert UUID.fullmatch(image_id)
        assert file["data"]["key"] == f"{image_id}.jpg"
        assert file["data"]["url"] == f"http://testserver/v2/images/{image_id}"
        served = await http.get(local(file["data"]["url"]))  # the URL works (public, through v2 delivery)
        assert served.status_code == 200
        img.assert_image(served.content, format="jpeg", width=served_width(file, body), height=30)
    assert isinstance(body["groupId"], str)
    assert UUID.fullmatch(body["groupId"])


def served_width(file: dict[str, Any], body: dict[str, Any]) -> int:
    index: int = body["files"].index(file)
    return 40 + index


async def test_one_file_has_no_group(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 1)
    assert len(body["files"]) == 1
    assert body["groupId"] is None


@pytest.mark.parametrize(
    ("data", "ext", "fmt"),
    [
        (img.make_jpeg(30, 20), "jpg", "jpeg"),
        (img.make_png(30, 20), "png", "png"),
        (img.make_webp(30, 20), "webp", "webp"),
    ],
)
async def test_jpeg_png_and_webp_are_supported(
    http: httpx.AsyncClient, tenant: ApiClient, data: bytes, ext: str, fmt: str
) -> None:
    response = await upload(http, tenant, [("file", ("x.bin", data, "application/octet-stream"))])
    assert response.status_code == 200, response.text
    file = response.json()["files"][0]
    assert file["data"]["key"].endswith(f".{ext}")
    img.assert_image((await http.get(local(file["data"]["url"]))).content, format=fmt, width=30, height=20)


@pytest.mark.parametrize("data", [img.make_gif(20, 20), img.make_avif(20, 20)])
async def test_other_formats_are_refused(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, data: bytes
) -> None:
    response = await upload(http, tenant, [("file", ("x.gif", data, "image/gif"))])
    assert_error(response, 415, "unsupported_format")
    assert stored_files(runtime.settings) == []


async def test_a_bad_file_among_several_stores_none(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    files = [*jpeg_files(2), ("file", ("bad.gif", img.make_gif(10, 10), "image/gif"))]
    body = assert_error(await upload(http, tenant, files), 415, "unsupported_format")
    assert body["error"]["details"]["file"] == 2
    assert stored_files(runtime.settings) == []
    assert (await http.get(base(), headers=key(tenant))).json() == []


async def test_at_most_4_images_per_request(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 4)
    assert len(body["files"]) == 4
    response = await upload(http, tenant, jpeg_files(5))
    error = assert_error(response, 400, "invalid_input", field="file")
    assert "at most 4" in error["error"]["message"]
    assert len((await http.get(base(), headers=key(tenant))).json()) == 4  # the fifth upload stored nothing
    assert len(stored_files(runtime.settings)) == 4  # the four originals, no temp file left


async def test_the_field_must_be_file(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert_error(await upload(http, tenant, jpeg_files(1, field="image")), 400, "invalid_input", field="file")
    assert_error(await upload(http, tenant, jpeg_files(1, field="File")), 400, "invalid_input", field="file")


async def test_upload_needs_multipart(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await http.post(base(), headers=key(tenant), json={"file": "x"})
    assert response.status_code in (400, 415), response.text
    assert set(response.json()) == {"error"}


async def test_corrupt_image_is_refused(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await upload(http, tenant, [("file", ("x.jpg", img.truncated(img.make_jpeg(200, 200)), "image/jpeg"))])
    assert response.status_code in (415, 422), response.text
    assert set(response.json()) == {"error"}


# --- 2. Get User Images -----------------------------------------------------------------------------------------


async def test_list_is_an_array_of_json_encoded_strings(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    first = await uploaded(http, tenant, 1)
    group = await uploaded(http, tenant, 2)
    await uploaded(http, tenant, 1, user="someone-else")
    response = await http.get(base(), headers=key(tenant))
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list)
    assert len(items) == 3  # only this user's
    assert all(isinstance(item, str) for item in items)
    assert all(item.startswith('{\n "_id": "') and item.endswith("\n}") for item in items)  # the document's layout
    records = [json.loads(item) for item in items]
    expected = {image_id_of(first["files"][0]): None} | {image_id_of(f): group["groupId"] for f in group["files"]}
    assert {r["_id"]: r["groupId"] for r in records} == expected
    for record in records:
        assert_record(record, image_id=record["_id"], group_id=record["groupId"])
    created = [r["createdAt"] for r in records]
    assert created == sorted(created, reverse=True)  # newest first


async def test_list_of_a_user_without_images_is_empty(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await http.get(base("nobody"), headers=key(tenant))
    assert response.status_code == 200
    assert response.json() == []


# --- 3. Get Image by ID -----------------------------------------------------------------------------------------


async def test_get_by_id(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 2)
    image_id = image_id_of(body["files"][1])
    response = await http.get(f"{base()}/{image_id}", headers=key(tenant))
    assert response.status_code == 200
    record = response.json()
    assert_record(record, image_id=image_id, group_id=body["groupId"])
    [v2] = [
        i for i in (await http.get("/v2/images", headers=tenant.headers(USER))).json()["data"] if i["id"] == image_id
    ]
    assert abs(record["createdAt"] - _epoch_ms(v2["createdAt"])) < 1000  # epoch milliseconds


def _epoch_ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


async def test_unknown_or_other_users_image_is_404(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    image_id = image_id_of((await uploaded(http, tenant))["files"][0])
    assert_error(
        await http.get(f"{base()}/00000000-0000-4000-8000-000000000000", headers=key(tenant)), 404, "image_not_found"
    )
    assert_error(await http.get(f"{base()}/not-an-id", headers=key(tenant)), 404, "image_not_found")
    assert_error(await http.get(f"{base('bob')}/{image_id}", headers=key(tenant)), 404, "image_not_found")
    assert_error(await http.get(f"{base()}/{image_id}", headers=key(other_tenant)), 404, "image_not_found")
    # An image of the client without an owner (v2 without X-User-Id) belongs to no user of this API.
    ownerless = await http.post("/v2/images", headers=key(tenant), files=jpeg_files(1))
    assert_error(await http.get(f"{base()}/{ownerless.json()['id']}", headers=key(tenant)), 404, "image_not_found")


# --- 4. Update Image --------------------------------------------------------------------------------------------


async def test_put_restating_url_and_key_answers_the_record(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    file = (await uploaded(http, tenant))["files"][0]
    image_id = image_id_of(file)
    response = await http.put(f"{base()}/{image_id}", headers=key(tenant), json=file["data"])
    assert response.status_code == 200, response.text
    assert_record(response.json(), image_id=image_id)
    only_key = await http.put(f"{base()}/{image_id}", headers=key(tenant), json={"key": file["data"]["key"]})
    assert only_key.status_code == 200


def served_size(response: httpx.Response) -> tuple[str, int, int]:
    assert response.status_code == 200, response.text
    image = img.open_image(response.content)
    return response.headers["content-type"], image.width, image.height


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"userimages": "100/minute"}}}])
async def test_put_repoints_the_record_at_another_image_of_the_user(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    """The document's flow: upload the new image, then "update the record with the new URL". The record (its PUT
    answer, its GET, the list, its group) answers the new url and key; it keeps its `_id`, `groupId` and
    `createdAt`; and what each URL serves never changes (image answers are immutable for a year)."""
    group = await uploaded(http, tenant, 2)
    old = group["files"][0]
    new = (await upload(http, tenant, [("file", ("new.png", img.make_png(64, 48), "image/png"))])).json()["files"][0]
    old_id = image_id_of(old)
    before = (await http.get(f"{base()}/{old_id}", headers=key(tenant))).json()
    old_served = served_size(await http.get(old["data"]["url"]))
    assert served_size(await http.get(old["data"]["url"], params={"w": 20}))[1] == 20  # a variant of the old one

    response = await http.put(f"{base()}/{old_id}", headers=key(tenant), json=new["data"])
    assert response.status_code == 200, response.text
    record = response.json()
    assert record == before | {"url": new["data"]["url"], "key": new["data"]["key"]}
    assert (await http.get(f"{base()}/{old_id}", headers=key(tenant))).json() == record
    listed = [json.loads(item) for item in (await http.get(base(), headers=key(tenant))).json()]
    assert record in listed
    in_group = (await http.get(f"{base()}/group/{group['groupId']}", headers=key(tenant))).json()["images"]
    assert record in in_group
    # No URL changes what it serves: the old one still the old image (and its variant), the new one the new.
    assert served_size(await http.get(old["data"]["url"])) == old_served
    assert served_size(await http.get(old["data"]["url"], params={"w": 20}))[1] == 20
    assert served_size(await http.get(record["url"])) == ("image/png", 64, 48)
    # Restating the current values changes nothing; naming its own url points the record back at itself.
    same = await http.put(f"{base()}/{old_id}", headers=key(tenant), json={"url": record["url"], "key": record["key"]})
    assert same.json() == record
    back = await http.put(f"{base()}/{old_id}", headers=key(tenant), json={"url": old["data"]["url"]})
    assert back.json() == before
    # Pointed again, then the new record is deleted: the old record answers its own url again.
    await http.put(f"{base()}/{old_id}", headers=key(tenant), json=new["data"])
    assert (await http.delete(f"{base()}/{image_id_of(new)}", headers=key(tenant))).status_code == 200
    assert (await http.get(f"{base()}/{old_id}", headers=key(tenant))).json() == before
    assert served_size(await http.get(old["data"]["url"])) == old_served


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"userimages": "100/minute"}}}])
async def test_put_refuses_what_names_no_image_of_the_user(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    file, other, third = (await uploaded(http, tenant, 3))["files"]
    bobs = (await uploaded(http, tenant, user="bob"))["files"][0]
    image_id = image_id_of(file)
    path = f"{base()}/{image_id}"

    async def refused(body: Any, field: str | None = None) -> None:
        assert_error(await http.put(path, headers=key(tenant), json=body), 400, "invalid_input", field)

    await refused({"url": "https://utfs.io/f/new-image.jpg"}, "url")
    await refused({"key": "new-image.jpg"}, "key")
    await refused({"url": bobs["data"]["url"]}, "url")  # another user's image
    await refused({"key": bobs["data"]["key"]}, "key")
    await refused({"url": other["data"]["url"] + "?w=10"}, "url")
    await refused({"key": other["data"]["key"].replace(".jpg", ".png")}, "key")  # not its key
    await refused({"url": other["data"]["url"], "key": third["data"]["key"]}, "key")  # two different images
    await refused({"url": file["data"]["url"], "key": other["data"]["key"]}, "key")
    await refused({})
    assert (await http.put(path, headers=key(tenant), json={"url": 5})).status_code == 400
    assert (await http.put(path, headers=key(tenant), json={"other": "x"})).status_code == 400
    assert (await http.get(path, headers=key(tenant))).json()["url"] == file["data"]["url"]  # unchanged
    served = await http.get(file["data"]["url"])
    assert img.open_image(served.content).width == 40  # still its own content
    assert_error(
        await http.put(f"{base('bob')}/{image_id}", headers=key(tenant), json=file["data"]), 404, "image_not_found"
    )


# --- 5. Delete Image --------------------------------------------------------------------------------------------


async def test_delete(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    file = (await uploaded(http, tenant))["files"][0]
    image_id = image_id_of(file)
    assert_error(await http.delete(f"{base('bob')}/{image_id}", headers=key(tenant)), 404, "image_not_found")
    response = await http.delete(f"{base()}/{image_id}", headers=key(tenant))
    assert response.status_code == 200
    assert response.json() == {"success": True, "deletedId": image_id}
    assert_error(await http.get(f"{base()}/{image_id}", headers=key(tenant)), 404, "image_not_found")
    assert_error(await http.delete(f"{base()}/{image_id}", headers=key(tenant)), 404, "image_not_found")
    assert stored_files(runtime.settings) == []  # its file went with it
    assert (await http.get(base(), headers=key(tenant))).json() == []


# --- 6. Group Operations ----------------------------------------------------------------------------------------


async def test_get_group(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 3)
    response = await http.get(f"{base()}/group/{body['groupId']}", headers=key(tenant))
    assert response.status_code == 200
    group = response.json()
    assert set(group) == {"success", "groupId", "userId", "name", "description", "images"}
    assert group["success"] is True
    assert (group["groupId"], group["userId"], group["name"], group["description"]) == (
        body["groupId"],
        USER,
        None,
        None,
    )
    assert [r["_id"] for r in group["images"]] == [image_id_of(f) for f in body["files"]]  # upload order
    for record in group["images"]:
        assert_record(record, image_id=record["_id"], group_id=body["groupId"])


async def test_put_group_updates_its_metadata(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, 2)
    path = f"{base()}/group/{body['groupId']}"
    response = await http.put(path, headers=key(tenant), json={"name": "Holiday", "description": "Beach"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("Holiday", "Beach")
    assert len(response.json()["images"]) == 2
    cleared = await http.put(path, headers=key(tenant), json={"description": ""})
    assert (cleared.json()["name"], cleared.json()["description"]) == ("Holiday", None)
    assert (await http.get(path, headers=key(tenant))).json()["name"] == "Holiday"
    # The v2 group is the same group.
    v2 = await http.get(f"/v2/groups/{body['groupId']}", headers=tenant.headers(USER))
    assert v2.json()["name"] == "Holiday"
    assert_error(await http.put(path, headers=key(tenant), json={}), 400, "invalid_input")
    assert (await http.put(path, headers=key(tenant), json={"name": "x" * 201})).status_code == 400


async def test_delete_group_deletes_all_its_images(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    body = await uploaded(http, tenant, 2)
    keep = await uploaded(http, tenant, 1)
    response = await http.delete(f"{base()}/group/{body['groupId']}", headers=key(tenant))
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "deletedGroupId": body["groupId"],
        "deletedIds": [image_id_of(f) for f in body["files"]],
    }
    remaining = [json.loads(item)["_id"] for item in (await http.get(base(), headers=key(tenant))).json()]
    assert remaining == [image_id_of(keep["files"][0])]
    assert len(stored_files(runtime.settings)) == 1
    assert_error(await http.get(f"{base()}/group/{body['groupId']}", headers=key(tenant)), 404, "group_not_found")


async def test_groups_of_other_users_or_clients_are_404(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    body = await uploaded(http, tenant, 2)
    group = body["groupId"]
    for path, client in (
        (f"{base('bob')}/group/{group}", tenant),
        (f"{base()}/group/{group}", other_tenant),
        (f"{base()}/group/00000000-0000-4000-8000-000000000000", tenant),
        (f"{base()}/group/nope", tenant),
    ):
        assert_error(await http.get(path, headers=key(client)), 404, "group_not_found")
        assert_error(await http.put(path, headers=key(client), json={"name": "x"}), 404, "group_not_found")
        assert_error(await http.delete(path, headers=key(client)), 404, "group_not_found")
    assert len((await http.get(base(), headers=key(tenant))).json()) == 2  # nothing was deleted


# --- Implementation notes: rate limit 10 requests/minute per user -----------------------------------------------


async def test_rate_limit_is_10_per_minute_per_user(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    for _ in range(10):
        response = await http.get(base(), headers=key(tenant))
        assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "10"
    refused = await http.get(base(), headers=key(tenant))
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 0
    assert (await upload(http, tenant)).status_code == 429  # every route counts
    # Per user: another user of the same client still has its budget.
    assert (await http.get(base("someone-else"), headers=key(tenant))).status_code == 200


async def test_the_limit_is_per_client_too(http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient) -> None:
    for _ in range(10):
        assert (await http.get(base(), headers=key(tenant))).status_code == 200
    assert (await http.get(base(), headers=key(tenant))).status_code == 429
    assert (await http.get(base(), headers=key(other_tenant))).status_code == 200


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limits": {"rules": {"*": "600/minute", "userimages": "3/minute"}}}]
)
async def test_the_limit_is_configurable(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    for _ in range(3):
        assert (await http.get(base(), headers=key(tenant))).status_code == 200
    assert_error(await http.get(base(), headers=key(tenant)), 429, "rate_limited")


# --- Authentication (not in the document): the client's API key --------------------------------------------------


async def test_the_key_goes_in_x_api_key_or_bearer(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await upload(http, tenant, headers={"X-API-Key": tenant.key})).status_code == 200
    assert (await upload(http, tenant, headers={"Authorization": f"Bearer {tenant.key}"})).status_code == 200
    listed = await http.get(base(), headers={"Authorization": f"Bearer {tenant.key}"})
    assert len(listed.json()) == 2


async def test_missing_or_invalid_key_is_401(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    assert_error(await upload(http, tenant, headers={}), 401, "missing_api_key")
    assert_error(await http.get(base()), 401, "missing_api_key")
    assert_error(await upload(http, tenant, headers={"X-API-Key": "phk_wrong"}), 401, "invalid_api_key")
    # Account credentials are not a client's key: userId names a user of a client.
    account = await make_account(runtime, "ann")
    assert_error(await http.get(base(), headers=account.headers()), 401, "invalid_api_key")
    assert_error(await http.get(base(), headers=await personal_key_headers(runtime, account)), 401, "invalid_api_key")


async def test_user_id_must_be_printable_and_at_most_255(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert_error(await http.get(base("u" * 256), headers=key(tenant)), 400, "invalid_input", field="userId")
    assert_error(await http.get(base("a%09b"), headers=key(tenant)), 400, "invalid_input", field="userId")
    assert (await http.get(base("u" * 255), headers=key(tenant))).status_code == 200


async def test_keyless_without_a_default_client_refuses_to_start() -> None:
    """The settings fixture is not used: building the settings must fail."""
    with pytest.raises(ValidationError, match="default_client"):
        Settings(dialects={"userimages": {"require_key": False}})
    with pytest.raises(ValidationError, match="default_client"):
        Settings(dialects={"userimages": {"require_key": False, "default_client": "  "}})


class TestKeyless:
    """`require_key=false`: requests without a key act for the users of `default_client`."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"dialects": {"userimages": {"require_key": False, "default_client": "not-a-client"}}}

    async def test_keyless_requests_act_for_the_default_client(
        self, http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
    ) -> None:
        # The configured client does not exist yet: 401, nothing stored.
        assert_error(await upload(http, tenant, headers={}), 401, "invalid_api_key")
        runtime.settings.dialects.userimages.default_client = tenant.id  # client ids are made by the server
        body = await uploaded(http, tenant, headers={})
        image_id = image_id_of(body["files"][0])
        # The image is the default client's user's, as if the client had sent its key.
        v2 = await http.get(f"/v2/images/{image_id}?info=true", headers=tenant.headers(USER))
        assert v2.status_code == 200, v2.text
        assert v2.json()["externalUserId"] == USER
        assert len((await http.get(base(), headers=key(tenant))).json()) == 1
        # A key, when sent, still decides.
        assert (await http.get(base(), headers=key(other_tenant))).json() == []
        assert_error(await http.get(base(), headers={"X-API-Key": "phk_wrong"}), 401, "invalid_api_key")

    async def test_an_inactive_default_client_is_401(
        self, http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
    ) -> None:
        from pinhole.services.clients import set_client_active

        runtime.settings.dialects.userimages.default_client = tenant.id
        assert (await http.get(base())).status_code == 200
        await set_client_active(db=runtime.db, client_id=tenant.id, active=False)
        assert_error(await http.get(base()), 401, "invalid_api_key")


# --- Errors and mounting ----------------------------------------------------------------------------------------


async def test_unknown_paths_under_api_users_answer_in_this_shape(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert_error(await http.get("/api/users/nothing", headers=key(tenant)), 404, "not_found")
    assert_error(await http.patch(base(), headers=key(tenant)), 405, "method_not_allowed")


@pytest.mark.parametrize("settings_overrides", [{"quotas": {"client_images": 1}}])
async def test_quota_refusals_keep_the_shape(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    assert_error(await upload(http, tenant, jpeg_files(2)), 403, "quota_exceeded")
    assert stored_files(runtime.settings) == []


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"userimages": {"prefix": "/wecomplete"}}}])
async def test_a_prefix_moves_every_route(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await http.get(base(), headers=key(tenant))).status_code == 404
    response = await http.post(f"/wecomplete{base()}", headers=key(tenant), files=jpeg_files(1))
    assert response.status_code == 200
    assert len((await http.get(f"/wecomplete{base()}", headers=key(tenant))).json()) == 1


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"userimages": {"enabled": False}}}])
async def test_a_disabled_api_is_not_served(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await upload(http, tenant)).status_code == 404


async def test_openapi_tags_every_route_userimages(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    ours = {p: item for p, item in paths.items() if p.startswith("/api/users/user/")}
    assert set(ours) == {
        "/api/users/user/{userId}/images",
        "/api/users/user/{userId}/images/{imageId}",
        "/api/users/user/{userId}/images/group/{groupId}",
    }
    methods = {(p, m) for p, item in ours.items() for m in item}
    assert len(methods) == 8
    assert all(item[m]["tags"] == ["userimages"] for p, item in ours.items() for m in item)
