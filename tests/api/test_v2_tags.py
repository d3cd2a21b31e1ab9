"""`GET /v2/tags`: the tags of the images the caller may read in its tenant (its own with X-User-Id), counted."""

from __future__ import annotations

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.accounthelpers import make_account, upload_key_headers
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio


async def tagged(http: httpx.AsyncClient, tenant: ApiClient, tags: str, **kwargs: str | None) -> None:
    user = kwargs.get("user")
    fields = {"tags": tags, "isPrivate": kwargs.get("private") or "false"}
    await upload(http, tenant, user=user, fields=fields)


async def tag_list(http: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> list[tuple[str, int]]:
    response = await http.get(f"/v2/tags{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [(item["tag"], item["count"]) for item in response.json()["data"]]


async def test_counts_sorted_by_use_then_name(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    await tagged(http, tenant, "beach,sunset")
    await tagged(http, tenant, "beach,city")
    await tagged(http, tenant, "beach,sunset,zoo")
    assert await tag_list(http, tenant.headers()) == [("beach", 3), ("sunset", 2), ("city", 1), ("zoo", 1)]
    assert await tag_list(http, tenant.headers(), "?limit=2") == [("beach", 3), ("sunset", 2)]


async def test_search_is_a_case_insensitive_substring(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    await tagged(http, tenant, "seaside,sunset-sea,city,50%_off")
    assert await tag_list(http, tenant.headers(), "?search=SEA") == [("seaside", 1), ("sunset-sea", 1)]
    assert await tag_list(http, tenant.headers(), "?search=%25") == [("50%_off", 1)]
    assert await tag_list(http, tenant.headers(), "?search=_") == [("50%_off", 1)]
    assert await tag_list(http, tenant.headers(), "?search=x") == []


@pytest.mark.parametrize("query", ["?limit=0", "?limit=501", "?limit=ten", "?search=" + "x" * 65])
async def test_bad_queries_are_400(http: httpx.AsyncClient, tenant: ApiClient, query: str) -> None:
    response = await http.get(f"/v2/tags{query}", headers=tenant.headers())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


async def test_limit_up_to_500(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    await tagged(http, tenant, "a")
    assert await tag_list(http, tenant.headers(), "?limit=500") == [("a", 1)]


async def test_only_readable_images_of_the_tenant_and_user(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    await tagged(http, tenant, "alice-public", user="alice")
    await tagged(http, tenant, "alice-private", user="alice", private="true")
    await tagged(http, tenant, "bob-private", user="bob", private="true")
    await tagged(http, tenant, "shared")
    await tagged(http, other_tenant, "elsewhere")

    assert await tag_list(http, tenant.headers("alice")) == [("alice-private", 1), ("alice-public", 1)]
    assert await tag_list(http, tenant.headers("bob")) == [("bob-private", 1)]
    everything = await tag_list(http, tenant.headers())  # the client key reads its users' public images too
    assert everything == [("alice-public", 1), ("shared", 1)]
    assert await tag_list(http, other_tenant.headers()) == [("elsewhere", 1)]
    assert await tag_list(http, other_tenant.headers("alice")) == []


async def test_accounts_and_credentials(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime, "olivia")
    other = await make_account(runtime, "oscar")
    response = await http.post(
        "/v2/images", headers=owner.headers(), files={"file": ("a.jpg", make_jpeg(8, 8))}, data={"tags": "mine"}
    )
    assert response.status_code == 201
    assert await tag_list(http, owner.headers()) == [("mine", 1)]
    assert await tag_list(http, other.headers()) == []
    assert (await http.get("/v2/tags")).status_code == 401
    assert (await http.get("/v2/tags", headers=await upload_key_headers(runtime, owner))).status_code == 403
