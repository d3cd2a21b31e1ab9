"""Listing through v2: filters, visibility, page mode and cursor mode."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient

from pinhole.db.engine import Database
from pinhole.db.models import Image, utcnow
from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


async def _seed(http: httpx.AsyncClient, tenant: ApiClient, count: int) -> list[str]:
    data = img.make_png(8, 8)  # one blob shared by all: listing is about rows
    ids = []
    for n in range(count):
        fields = {"tags": "even" if n % 2 == 0 else "odd", "description": f"picture number {n}"}
        ids.append((await upload(http, tenant, data, user="alice" if n < 5 else "bob", fields=fields))["id"])
    return ids


async def test_cursor_walk_returns_everything_once_newest_first(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    ids = await _seed(http, tenant, 11)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = (await http.get("/v2/images", headers=tenant.headers(), params=params)).json()
        assert body["pagination"]["total"] == (11 if cursor is None else None)  # cursor pages skip the count
        seen += [item["id"] for item in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_page_mode_counts(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    ids = await _seed(http, tenant, 5)
    body = (await http.get("/v2/images", headers=tenant.headers(), params={"page": 2, "limit": 2})).json()
    assert [i["id"] for i in body["data"]] == [ids[2], ids[1]]
    assert body["pagination"] == {
        "page": 2,
        "limit": 2,
        "total": 5,
        "totalPages": 3,
        "nextCursor": body["pagination"]["nextCursor"],
    }


async def test_filters(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    ids = await _seed(http, tenant, 8)

    async def listed(**params: str | int) -> list[str]:
        body = (await http.get("/v2/images", headers=tenant.headers(), params=params)).json()
        return sorted(item["id"] for item in body["data"])

    assert await listed(tag="even") == sorted(ids[0::2])
    assert await listed(tag="EVEN ") == sorted(ids[0::2])
    assert await listed(search="NUMBER 7") == [ids[7]]
    assert await listed(search="100%") == []
    assert await listed(owner="bob") == sorted(ids[5:])
    async with runtime.db.writer() as session:
        await session.execute(update(Image).where(Image.id == ids[0]).values(created_at=utcnow() - timedelta(days=10)))
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert ids[0] not in await listed(**{"from": since})
    assert await listed(to=since) == [ids[0]]


async def test_private_images_are_listed_only_for_their_owner(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    public = await upload(http, tenant, user="alice")
    secret = await upload(http, tenant, img.make_png(9, 9), user="alice", fields={"isPrivate": "true"})

    async def listed(headers: dict[str, str]) -> set[str]:
        return {i["id"] for i in (await http.get("/v2/images", headers=headers)).json()["data"]}

    assert await listed(tenant.headers("alice")) == {public["id"], secret["id"]}
    assert await listed(tenant.headers("bob")) == {public["id"]}
    assert await listed(tenant.headers()) == {public["id"]}
    assert await listed(other_tenant.headers("alice")) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "!!!"},
        {"cursor": "bm9wZQ"},
        {"limit": 0},
        {"limit": 101},
        {"page": 0},
        {"page": 1, "cursor": "x"},
        {"from": "yesterday"},
    ],
)
async def test_bad_listing_parameters_are_400(
    http: httpx.AsyncClient, tenant: ApiClient, params: dict[str, str | int]
) -> None:
    response = await http.get("/v2/images", headers=tenant.headers(), params=params)
    assert response.status_code == 400, response.text


async def test_listing_needs_a_key(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v2/images")).status_code == 401


@pytest.mark.parametrize("settings_overrides", [{"database": {"count_cache_seconds": 3600}}])
async def test_page_totals_are_reused_until_this_process_writes(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    """A total is kept for PINHOLE_DATABASE__COUNT_CACHE_SECONDS; a row another process adds shows after that
    (here: never within the test), an upload through this process at once."""
    await _seed(http, tenant, 3)

    async def total() -> int:
        body = (await http.get("/v2/images", headers=tenant.headers(), params={"limit": 2})).json()
        return int(body["pagination"]["total"])

    assert await total() == 3
    other_process = Database(runtime.db.url)  # another process's engine: its writes are not seen here
    try:
        async with other_process.writer() as session:
            row = (await session.scalars(select(Image).limit(1))).one()
            session.expunge(row)
            make_transient(row)
            row.id = "another-process-row"
            session.add(row)
    finally:
        await other_process.dispose()
    assert await total() == 3
    await upload(http, tenant, img.make_png(9, 9), user="alice")
    assert await total() == 5
