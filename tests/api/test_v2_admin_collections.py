"""The admin API's avatars and albums: across every client, by id, with the same deletion semantics as the owners'."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Avatar, Blob
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import stats
from tests.api.accounthelpers import Account, make_account
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"rules": {"*": "1000/minute"}}}


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


async def _avatar(http: httpx.AsyncClient, client: ApiClient, user: str, data: bytes) -> None:
    response = await http.post(
        "/v2/avatars", headers=client.headers(user), files={"file": ("a.png", data, "image/png")}
    )
    assert response.status_code == 201, response.text


async def _album(http: httpx.AsyncClient, client: ApiClient, user: str, name: str, **extra: Any) -> dict[str, Any]:
    response = await http.post("/v2/albums", headers=client.headers(user), json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _get(http: httpx.AsyncClient, admin: Account, path: str, **params: Any) -> dict[str, Any]:
    response = await http.get(path, headers=admin.headers(), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_only_admin_accounts_get_in(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    user = await make_account(runtime, "mere")
    for path in ("/v2/admin/avatars", "/v2/admin/albums"):
        assert (await http.get(path)).status_code == 401
        assert (await http.get(path, headers=tenant.headers("alice"))).status_code == 401
        assert (await http.get(path, headers=user.headers())).status_code == 403
        assert (await http.get(path, headers=admin.headers())).status_code == 200


async def test_avatars_across_clients_filtered_and_paged(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    await _avatar(http, tenant, "alice", img.make_png(10, 10))
    await _avatar(http, tenant, "bob", img.make_png(11, 10))
    await _avatar(http, other_tenant, "alice", img.make_png(12, 10))

    every = await _get(http, admin, "/v2/admin/avatars")
    assert [(a["clientId"], a["externalUserId"]) for a in every["data"]] == [
        (other_tenant.id, "alice"),
        (tenant.id, "bob"),
        (tenant.id, "alice"),
    ]
    assert every["pagination"]["total"] == 3
    first = every["data"][0]
    assert first["url"] == f"http://testserver/v2/avatars/{other_tenant.id}/alice"
    assert (first["width"], first["height"], first["mimeType"]) == (12, 10, "image/png")

    mine = await _get(http, admin, "/v2/admin/avatars", clientId=tenant.id)
    assert {a["externalUserId"] for a in mine["data"]} == {"alice", "bob"}
    alices = await _get(http, admin, "/v2/admin/avatars", userId="alice")
    assert {a["clientId"] for a in alices["data"]} == {tenant.id, other_tenant.id}

    page = await _get(http, admin, "/v2/admin/avatars", limit=2)
    rest = await _get(http, admin, "/v2/admin/avatars", limit=2, cursor=page["pagination"]["nextCursor"])
    assert [a["id"] for a in page["data"] + rest["data"]] == [a["id"] for a in every["data"]]
    both = await http.get("/v2/admin/avatars", headers=admin.headers(), params={"page": 1, "cursor": "x"})
    assert both.status_code == 400


async def test_get_and_delete_an_avatar_by_id(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    data = img.make_png(14, 9)
    await _avatar(http, tenant, "alice", data)
    await upload(http, tenant, data, user="carol")  # an image shares the avatar's original
    await _avatar(http, tenant, "bob", img.make_png(15, 9))
    listed = (await _get(http, admin, "/v2/admin/avatars", clientId=tenant.id))["data"]
    ids = {a["externalUserId"]: a["id"] for a in listed}

    one = await _get(http, admin, f"/v2/admin/avatars/{ids['alice']}")
    assert (one["id"], one["clientId"], one["externalUserId"]) == (ids["alice"], tenant.id, "alice")

    async def blobs() -> int:
        async with runtime.db.reader() as session:
            return await session.scalar(select(func.count()).select_from(Blob)) or 0

    before = await blobs()
    assert (await http.delete(f"/v2/admin/avatars/{ids['alice']}", headers=admin.headers())).status_code == 204
    assert await blobs() == before  # the image still refers to the original
    assert (await http.delete(f"/v2/admin/avatars/{ids['bob']}", headers=admin.headers())).status_code == 204
    assert await blobs() == before - 1  # bob's original had no other reference
    assert (await http.get(f"/v2/avatars/{tenant.id}/bob")).headers.get("x-pinhole-fallback") == "1"

    gone = await http.get(f"/v2/admin/avatars/{ids['bob']}", headers=admin.headers())
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "avatar_not_found")
    again = await http.delete(f"/v2/admin/avatars/{ids['bob']}", headers=admin.headers())
    assert again.status_code == 404
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Avatar)) == 0
    assert await stats.recount(db=runtime.db, fix=False) == []


async def test_albums_across_clients_with_full_counts(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    private = await upload(http, tenant, img.make_png(10, 10), user="alice", fields={"isPrivate": "true"})
    album = await _album(http, tenant, "alice", "Holidays", albumId="hol-1")
    added = await http.post(
        f"/v2/albums/{album['id']}/images", headers=tenant.headers("alice"), json={"imageIds": [private["id"]]}
    )
    assert added.status_code == 200, added.text
    await _album(http, other_tenant, "zed", "Other", isPublic=True)

    every = await _get(http, admin, "/v2/admin/albums")
    assert [(a["clientId"], a["name"]) for a in every["data"]] == [(other_tenant.id, "Other"), (tenant.id, "Holidays")]
    holidays = every["data"][1]
    assert (holidays["imageCount"], holidays["albumId"], holidays["externalUserId"]) == (1, "hol-1", "alice")
    only = await _get(http, admin, "/v2/admin/albums", clientId=other_tenant.id)
    assert [a["name"] for a in only["data"]] == ["Other"]
    assert [a["name"] for a in (await _get(http, admin, "/v2/admin/albums", userId="alice"))["data"]] == ["Holidays"]

    one = await _get(http, admin, f"/v2/admin/albums/{album['id']}")
    assert (one["clientId"], one["imageCount"]) == (tenant.id, 1)


async def test_update_and_delete_any_clients_album(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    image = await upload(http, tenant, img.make_png(10, 10), user="alice")
    album = await _album(http, tenant, "alice", "Before")
    await http.post(
        f"/v2/albums/{album['id']}/images", headers=tenant.headers("alice"), json={"imageIds": [image["id"]]}
    )
    path = f"/v2/admin/albums/{album['id']}"

    changed = await http.patch(path, headers=admin.headers(), json={"name": "After", "isPublic": True})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["isPublic"], changed.json()["clientId"]) == (
        "After",
        True,
        tenant.id,
    )
    owner_view = await http.get(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))
    assert owner_view.json()["name"] == "After"
    blank = await http.patch(path, headers=admin.headers(), json={"name": "  "})
    assert (blank.status_code, blank.json()["error"]["field"]) == (400, "name")
    unknown = await http.patch(path, headers=admin.headers(), json={"colour": "red"})
    assert unknown.status_code == 400

    assert (await http.delete(path, headers=admin.headers())).status_code == 204
    assert (await http.get(path, headers=admin.headers())).status_code == 404
    assert (await http.delete(path, headers=admin.headers())).status_code == 404
    # The album only: its image stays.
    assert (await http.get(f"/v2/images/{image['id']}?info=true", headers=tenant.headers("alice"))).status_code == 200
    assert await stats.recount(db=runtime.db, fix=False) == []
