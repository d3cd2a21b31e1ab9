"""The admin API (v2): statistics, clients (details, quotas, active flag, per-client rate limits) and images across
every client (list with filters, upload on behalf of a client, get/update/delete, tags)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import stats
from tests.api.accounthelpers import Account, make_account
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"rules": {"*": "1000/minute"}}}


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


async def admin_upload(
    http: httpx.AsyncClient, admin: Account, client_id: str | None, *, data: bytes | None = None, **fields: str
) -> httpx.Response:
    form = {**fields, **({"clientId": client_id} if client_id is not None else {})}
    return await http.post(
        "/v2/admin/images",
        headers=admin.headers(),
        files={"file": ("a.png", data or img.make_png(20, 20), "image/png")},
        data=form,
    )


async def test_only_admin_accounts_get_in(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    user = await make_account(runtime, "mere")
    for path in ("/v2/admin/stats", "/v2/admin/clients", f"/v2/admin/clients/{tenant.id}", "/v2/admin/images"):
        assert (await http.get(path)).status_code == 401
        assert (await http.get(path, headers=tenant.headers())).status_code == 401
        forbidden = await http.get(path, headers=user.headers())
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "forbidden"
        assert (await http.get(path, headers=admin.headers())).status_code == 200


async def test_stats_and_client_details(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    a = await upload(http, tenant, img.make_png(10, 10), user="alice")
    b = await upload(http, other_tenant, img.make_png(11, 10))
    body = (await http.get("/v2/admin/stats", headers=admin.headers())).json()
    by_id = {row["clientId"]: row for row in body["clients"]}
    assert (by_id[tenant.id]["images"], by_id[tenant.id]["originalBytes"]) == (1, a["size"])
    assert (by_id[other_tenant.id]["name"], by_id[other_tenant.id]["images"]) == ("tenant-b", 1)
    totals = body["totals"]
    assert (totals["images"], totals["originalBytes"], totals["blobs"]) == (2, a["size"] + b["size"], 2)
    assert totals["clients"] == len(body["clients"])

    listed = (await http.get("/v2/admin/clients", headers=admin.headers())).json()["data"]
    mine = next(c for c in listed if c["id"] == tenant.id)
    assert mine["keyPrefix"] == tenant.key[:12]
    assert mine["hasKey"]
    assert mine["active"]
    assert mine["stats"]["images"] == 1
    assert mine["rateLimits"] is None

    detail = (await http.get(f"/v2/admin/clients/{tenant.id}", headers=admin.headers())).json()
    assert detail["quotas"] == dict.fromkeys(
        ["quotaBytes", "quotaImages", "maxFileBytes", "userQuotaBytes", "userQuotaImages"]
    )
    assert detail["limits"]["maxFileBytes"] == runtime.settings.uploads.max_file_bytes
    assert detail["quotaUsage"] == [
        {"quota": "client_bytes", "limit": None, "used": a["size"]},
        {"quota": "client_images", "limit": None, "used": 1},
    ]
    missing = await http.get("/v2/admin/clients/nope", headers=admin.headers())
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


async def test_patch_client_quotas_name_and_active(http: httpx.AsyncClient, admin: Account, tenant: ApiClient) -> None:
    path = f"/v2/admin/clients/{tenant.id}"
    changed = await http.patch(path, headers=admin.headers(), json={"name": "Shop", "quotaImages": 1})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["quotas"]["quotaImages"], body["limits"]["clientImages"]) == ("Shop", 1, 1)
    await upload(http, tenant, img.make_png(10, 10))
    refused = await upload(http, tenant, img.make_png(11, 10), expect=403)
    assert refused["error"]["code"] == "quota_exceeded"

    reset = await http.patch(path, headers=admin.headers(), json={"quotaImages": None})
    assert reset.json()["quotas"]["quotaImages"] is None
    assert reset.json()["name"] == "Shop"
    await upload(http, tenant, img.make_png(11, 10))

    off = await http.patch(path, headers=admin.headers(), json={"active": False})
    assert off.json()["active"] is False
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 401
    await http.patch(path, headers=admin.headers(), json={"active": True})
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 200

    for bad in ({"quotaBytes": -1}, {"name": ""}, {"active": None}, {"color": "red"}, {"rateLimits": {"v2": "lots"}}):
        response = await http.patch(path, headers=admin.headers(), json=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
    assert (await http.patch("/v2/admin/clients/nope", headers=admin.headers(), json={})).status_code == 404
    accounts = await http.patch("/v2/admin/clients/accounts", headers=admin.headers(), json={"active": False})
    assert (accounts.status_code, accounts.json()["error"]["field"]) == (400, "client")  # it has no key


async def test_a_clients_own_rate_limits_take_effect(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    path = f"/v2/admin/clients/{tenant.id}"
    rules = {"v2.images.list": "2/minute"}
    response = await http.patch(path, headers=admin.headers(), json={"rateLimits": rules})
    assert response.json()["rateLimits"] == rules
    got = [(await http.get("/v2/images", headers=tenant.headers())).status_code for _ in range(3)]
    assert got == [200, 200, 429]
    limited = await http.get("/v2/images", headers=tenant.headers())
    assert limited.headers["x-ratelimit-limit"] == "2"
    assert limited.json()["error"]["code"] == "rate_limited"
    # Other routes of the client, and other clients, keep the server's rules.
    assert (await http.get("/v2/client/stats", headers=tenant.headers())).headers["x-ratelimit-limit"] == "1000"
    others = [(await http.get("/v2/images", headers=other_tenant.headers())).status_code for _ in range(3)]
    assert others == [200, 200, 200]

    # `off` exempts a scope the server limits; removing the rules restores the server's at once.
    await http.patch(path, headers=admin.headers(), json={"rateLimits": {"v2.images.list": "off"}})
    free = await http.get("/v2/images", headers=tenant.headers())
    assert free.status_code == 200
    assert "x-ratelimit-limit" not in free.headers
    cleared = await http.patch(path, headers=admin.headers(), json={"rateLimits": None})
    assert cleared.json()["rateLimits"] is None
    assert (await http.get("/v2/images", headers=tenant.headers())).headers["x-ratelimit-limit"] == "1000"


async def test_list_images_across_clients_with_filters(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    a = await upload(http, tenant, img.make_png(10, 10), user="alice", fields={"tags": "cat,red", "isPrivate": "true"})
    b = await upload(http, tenant, img.make_png(11, 10), user="bob", fields={"tags": "cat"})
    c = await upload(http, other_tenant, img.make_png(12, 10), fields={"tags": "dog", "description": "A Sunny day"})

    async def ids(**params: Any) -> list[str]:
        response = await http.get("/v2/admin/images", headers=admin.headers(), params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert await ids() == [c["id"], b["id"], a["id"]]
    assert await ids(clientId=tenant.id) == [b["id"], a["id"]]
    assert await ids(userId="alice") == [a["id"]]
    assert await ids(tags="cat,red") == [a["id"]]
    assert await ids(tags=["cat"]) == [b["id"], a["id"]]
    assert await ids(isPrivate="true") == [a["id"]]
    assert await ids(isPrivate="false") == [c["id"], b["id"]]
    assert await ids(search="sunny") == [c["id"]]
    assert await ids(**{"from": "2000-01-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"}) == []

    page = (await http.get("/v2/admin/images", headers=admin.headers(), params={"limit": 2})).json()
    assert page["pagination"]["total"] == 3
    assert page["pagination"]["totalPages"] == 2
    assert {item["clientId"] for item in page["data"]} == {tenant.id, other_tenant.id}
    following = await http.get(
        "/v2/admin/images", headers=admin.headers(), params={"limit": 2, "cursor": page["pagination"]["nextCursor"]}
    )
    assert [item["id"] for item in following.json()["data"]] == [a["id"]]
    bad = await http.get("/v2/admin/images", headers=admin.headers(), params={"isPrivate": "maybe"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "isPrivate")


async def test_upload_on_behalf_of_a_client(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    response = await admin_upload(http, admin, tenant.id, userId="alice", tags="x", isPrivate="true")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["clientId"], body["externalUserId"], body["tags"], body["isPrivate"]) == (
        tenant.id,
        "alice",
        ["x"],
        True,
    )
    # It is the client's image: its owner sees it, and the counters moved.
    info = await http.get(f"/v2/images/{body['id']}", params={"info": "true"}, headers=tenant.headers("alice"))
    assert info.status_code == 200
    assert (await stats.client_stats(db=runtime.db, client_id=tenant.id)).images == 1

    before = stored_files(runtime.settings)
    missing = await admin_upload(http, admin, None)
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "clientId")
    unknown = await admin_upload(http, admin, "no-such-client")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "clientId")
    # That client's quotas apply.
    await http.patch(f"/v2/admin/clients/{tenant.id}", headers=admin.headers(), json={"quotaImages": 1})
    over = await admin_upload(http, admin, tenant.id, data=img.make_png(30, 30))
    assert (over.status_code, over.json()["error"]["code"]) == (403, "quota_exceeded")
    assert stored_files(runtime.settings) == before


async def test_get_update_delete_any_clients_image(
    http: httpx.AsyncClient, runtime: Runtime, admin: Account, tenant: ApiClient
) -> None:
    image = await upload(http, tenant, img.make_png(10, 10), user="alice", fields={"isPrivate": "true"})
    path = f"/v2/admin/images/{image['id']}"
    got = await http.get(path, headers=admin.headers())
    assert (got.status_code, got.json()["clientId"]) == (200, tenant.id)
    changed = await http.patch(path, headers=admin.headers(), json={"tags": ["Admin"], "description": "seen"})
    assert (changed.json()["tags"], changed.json()["description"]) == (["admin"], "seen")
    assert (await http.patch(path, headers=admin.headers(), json={"nope": 1})).status_code == 400
    assert (await http.delete(path, headers=admin.headers())).status_code == 204
    assert (await http.get(path, headers=admin.headers())).status_code == 404
    assert (await http.delete(path, headers=admin.headers())).status_code == 404
    assert await stats.recount(db=runtime.db, fix=False) == []


async def test_tags_across_clients(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    await upload(http, tenant, img.make_png(10, 10), fields={"tags": "cat,red"})
    await upload(http, tenant, img.make_png(11, 10), fields={"tags": "cat"})
    await upload(http, other_tenant, img.make_png(12, 10), fields={"tags": "cat,car"})

    async def tags(**params: Any) -> list[tuple[str, int]]:
        response = await http.get("/v2/admin/images/tags", headers=admin.headers(), params=params)
        assert response.status_code == 200, response.text
        return [(t["tag"], t["count"]) for t in response.json()["data"]]

    assert await tags() == [("cat", 3), ("car", 1), ("red", 1)]
    assert await tags(clientId=tenant.id) == [("cat", 2), ("red", 1)]
    assert await tags(search="CA") == [("cat", 3), ("car", 1)]
    assert await tags(limit=1) == [("cat", 3)]
    too_many = await http.get("/v2/admin/images/tags", headers=admin.headers(), params={"limit": 0})
    assert too_many.status_code == 400


async def test_upload_names_the_client_in_the_query_too(
    http: httpx.AsyncClient, admin: Account, tenant: ApiClient
) -> None:
    response = await http.post(
        "/v2/admin/images",
        headers=admin.headers(),
        params={"clientId": tenant.id, "userId": "zoe"},
        files={"file": ("a.png", img.make_png(20, 21), "image/png")},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["clientId"], response.json()["externalUserId"]) == (tenant.id, "zoe")
