"""`GET /v2/client/stats`: a client's counters (through real uploads, variants, views and deletes), a user's own
figures, quota usage, and who may ask."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from pinhole.db.models import Client
from pinhole.runtime import Runtime
from pinhole.services import stats
from tests.api.accounthelpers import make_account, upload_key_headers
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.variants import render_widths, variants_by_width

pytestmark = pytest.mark.anyio


async def test_client_stats_follow_uploads_views_variants_and_deletes(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    a = await upload(http, tenant, img.make_jpeg(200, 100), user="alice")
    b = await upload(http, tenant, img.make_png(30, 20))
    shared = img.make_jpeg(90, 60)
    c = await upload(http, tenant, shared, user="bob")
    await upload(http, other_tenant, shared)  # the same original, in another client
    await render_widths(http, c, (10, 20))
    await http.get(f"/v2/images/{a['id']}")
    await runtime.usage.flush()
    variant_bytes = sum(v.size for v in (await variants_by_width(runtime)).values())

    response = await http.get("/v2/client/stats", headers=tenant.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["clientId"] == tenant.id
    assert body["client"] == {
        "images": 3,
        "originalBytes": a["size"] + b["size"] + c["size"],
        "variantBytes": variant_bytes,
        "views": 3,  # two transforms of c, one original of a
        "albums": 0,
        "avatars": 0,
        "avatarBytes": 0,
        "groups": 0,
    }
    assert body["user"] is None
    assert body["quotas"] == [
        {"quota": "client_bytes", "limit": None, "used": a["size"] + b["size"] + c["size"]},
        {"quota": "client_images", "limit": None, "used": 3},
    ]
    # The shared original's variants count for the other client too; globally they count once.
    other = (await http.get("/v2/client/stats", headers=other_tenant.headers())).json()["client"]
    assert (other["images"], other["variantBytes"]) == (1, variant_bytes)
    assert (await stats.global_stats(db=runtime.db)).totals.variant_bytes == variant_bytes

    assert (await http.delete(f"/v2/images/{c['id']}", headers=tenant.headers("bob"))).status_code == 204
    after = (await http.get("/v2/client/stats", headers=tenant.headers())).json()["client"]
    assert (after["images"], after["variantBytes"], after["originalBytes"]) == (2, 0, a["size"] + b["size"])
    assert await stats.recount(db=runtime.db, fix=False) == []


async def test_a_user_gets_its_own_figures_and_quotas(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    async with runtime.db.writer() as session:
        await session.execute(update(Client).where(Client.id == tenant.id).values(user_quota_images=5))
    mine = await upload(http, tenant, img.make_png(12, 12), user="alice")
    await upload(http, tenant, img.make_png(13, 12), user="bob")
    body = (await http.get("/v2/client/stats", headers=tenant.headers("alice"))).json()
    assert body["client"]["images"] == 2
    assert body["user"] == {
        "userId": "alice",
        "images": 1,
        "originalBytes": mine["size"],
        "views": 0,
        "albums": 0,
        "avatars": 0,
    }
    assert {q["quota"]: (q["limit"], q["used"]) for q in body["quotas"]}["user_images"] == (5, 1)


async def test_accounts_see_their_own_figures_only(http: httpx.AsyncClient, runtime: Runtime) -> None:
    ann = await make_account(runtime, "ann")
    other = await make_account(runtime, "otto")
    for who, pixels in ((ann, 10), (other, 11), (other, 12)):
        response = await http.post(
            "/v2/images",
            headers=who.headers(),
            files={"file": ("p.png", img.make_png(pixels, 9), "image/png")},
        )
        assert response.status_code == 201, response.text
    body = (await http.get("/v2/client/stats", headers=ann.headers())).json()
    assert body["client"] is None
    assert body["user"]["images"] == 1
    assert [q["quota"] for q in body["quotas"]] == ["user_bytes", "user_images"]


async def test_who_may_ask(http: httpx.AsyncClient, runtime: Runtime) -> None:
    assert (await http.get("/v2/client/stats")).json()["error"]["status"] == 401
    ann = await make_account(runtime, "uploader")
    refused = await http.get("/v2/client/stats", headers=await upload_key_headers(runtime, ann))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    bad = await http.get("/v2/client/stats", headers={"X-API-Key": "phk_wrong"})
    assert bad.status_code == 401
