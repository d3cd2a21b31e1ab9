"""Privacy, share links, updates and deletes through v2, across owners and tenants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from pinhole.db.models import utcnow
from pinhole.imaging.fallback import fallback_webp
from pinhole.runtime import Runtime
from pinhole.services import shares
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
async def private(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(200, 100), user="alice", fields={"isPrivate": "true"})


def _is_fallback(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.content == fallback_webp()


async def test_private_image_is_served_only_to_its_owner(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, private: dict[str, Any]
) -> None:
    url = f"/v2/images/{private['id']}"
    owner = await http.get(url, headers=tenant.headers("alice"))
    assert owner.status_code == 200
    img.assert_image(owner.content, format="jpeg", width=200, height=100)
    assert owner.headers["cache-control"] == "private, no-cache"
    assert "X-User-Id" in owner.headers["vary"]
    for headers in ({}, tenant.headers(), tenant.headers("mallory"), other_tenant.headers("alice")):
        assert _is_fallback(await http.get(url, headers=headers))
        assert _is_fallback(await http.get(url, params={"w": 50}, headers=headers))
        info = await http.get(url, params={"info": "true"}, headers=headers)
        assert info.status_code == 404


async def test_share_link_opens_a_private_image(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any]
) -> None:
    created = await http.post(f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"))
    assert created.status_code == 201, created.text
    share = created.json()
    assert share["token"].startswith("shr_")
    assert len(share["token"]) >= 32
    assert share["expiresAt"] is None
    assert share["url"] == f"http://testserver/v2/images/share/{share['token']}"
    by_link = await http.get(f"/v2/images/share/{share['token']}")
    assert by_link.status_code == 200
    img.assert_image(by_link.content, format="jpeg", width=200, height=100)
    resized = await http.get(f"/v2/images/share/{share['token']}", params={"w": 50})
    img.assert_image(resized.content, format="jpeg", width=50, height=25)
    by_param = await http.get(f"/v2/images/{private['id']}", params={"token": share["token"], "w": 100})
    img.assert_image(by_param.content, format="jpeg", width=100, height=50)
    info = await http.get(f"/v2/images/share/{share['token']}", params={"info": "true"})
    assert info.json()["id"] == private["id"]


async def test_a_token_opens_only_its_own_image(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any]
) -> None:
    other = await upload(http, tenant, img.make_png(30, 30), user="alice", fields={"isPrivate": "true"})
    share = (await http.post(f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"))).json()
    assert _is_fallback(await http.get(f"/v2/images/{other['id']}", params={"token": share["token"]}))


async def test_revoked_and_expired_links_stop_working(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any], runtime: Runtime
) -> None:
    share = (await http.post(f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"))).json()
    revoke = await http.delete(f"/v2/images/{private['id']}/share/{share['token']}", headers=tenant.headers("alice"))
    assert revoke.status_code == 204
    assert _is_fallback(await http.get(f"/v2/images/share/{share['token']}"))
    assert _is_fallback(await http.get(f"/v2/images/{private['id']}", params={"token": share["token"]}))
    expiring = await http.post(
        f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"), json={"expiresIn": 60}
    )
    token = expiring.json()["token"]
    assert expiring.json()["expiresAt"] is not None
    assert await shares.resolve_share(db=runtime.db, token=token) is not None
    later = utcnow() + timedelta(seconds=61)
    assert await shares.resolve_share(db=runtime.db, token=token, now=later) is None
    assert _is_fallback(await http.get("/v2/images/share/shr_made-up-token"))


@pytest.mark.parametrize("body", [{"expiresIn": 0}, {"expiresIn": "soon"}, {"unknown": 1}])
async def test_bad_share_requests_are_400(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await http.post(f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"), json=body)
    assert response.status_code == 400


async def test_only_the_owner_may_share_change_or_delete(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, private: dict[str, Any]
) -> None:
    url = f"/v2/images/{private['id']}"
    assert (await http.post(f"{url}/share", headers=tenant.headers("mallory"))).status_code == 404
    assert (await http.patch(url, headers=other_tenant.headers("alice"), json={"tags": ["x"]})).status_code == 404
    assert (await http.delete(url, headers=other_tenant.headers("alice"))).status_code == 404
    assert (await http.delete(url)).status_code == 401


async def test_public_image_of_another_owner_is_visible_but_not_changeable(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    public = await upload(http, tenant, user="alice")
    url = f"/v2/images/{public['id']}"
    assert (await http.get(url, params={"info": "true"}, headers=tenant.headers("bob"))).status_code == 200
    refused = await http.patch(url, headers=tenant.headers("bob"), json={"description": "mine now"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_patch_changes_tags_description_and_privacy(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any]
) -> None:
    url = f"/v2/images/{private['id']}"
    first = await http.patch(
        url,
        headers=tenant.headers("alice"),
        json={"tags": ["Sea", "sky"], "description": "blue", "isPrivate": False},
    )
    assert first.status_code == 200, first.text
    assert (first.json()["tags"], first.json()["description"], first.json()["isPrivate"]) == (
        ["sea", "sky"],
        "blue",
        False,
    )
    assert (await http.get(url)).headers["content-type"] == "image/jpeg"  # public now
    second = await http.patch(
        url, headers=tenant.headers("alice"), json={"tags": ["sky", "cloud"], "description": None}
    )
    assert (second.json()["tags"], second.json()["description"]) == (["cloud", "sky"], None)
    assert second.json()["isPrivate"] is False


@pytest.mark.parametrize(
    "body", [{"isPrivate": "maybe"}, {"tags": "notalist"}, {"colour": "red"}, {"tags": ["x" * 65]}]
)
async def test_bad_patches_are_400(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await http.patch(f"/v2/images/{private['id']}", headers=tenant.headers("alice"), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_input"


async def test_delete_removes_image_variants_and_files(
    http: httpx.AsyncClient, tenant: ApiClient, private: dict[str, Any], runtime: Runtime
) -> None:
    url = f"/v2/images/{private['id']}"
    await http.get(url, params={"w": 40}, headers=tenant.headers("alice"))
    assert len(stored_files(runtime.settings)) == 2
    assert (await http.delete(url, headers=tenant.headers("alice"))).status_code == 204
    assert stored_files(runtime.settings) == []
    assert _is_fallback(await http.get(url, headers=tenant.headers("alice")))
    assert (await http.delete(url, headers=tenant.headers("alice"))).status_code == 404


async def test_status_reports_health_and_key(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    anonymous = await http.get("/v2/status")
    assert anonymous.status_code == 200
    assert anonymous.json()["status"] == "ok"
    assert anonymous.json()["apiKey"] is None
    keyed = (await http.get("/v2/status", headers=tenant.headers())).json()
    assert keyed["apiKey"]["clientId"] == tenant.id
    assert keyed["apiKey"]["keyPrefix"] == tenant.key[:12]
    assert tenant.key not in str(keyed)
    assert (await http.get("/v2/status", headers={"X-API-Key": "phk_nope"})).status_code == 401


async def test_privacy_change_is_seen_by_the_next_request(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    public = await upload(http, tenant, user="alice")
    url = f"/v2/images/{public['id']}"
    assert not _is_fallback(await http.get(url))  # now in the serving cache
    await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": True})
    assert _is_fallback(await http.get(url))
    await http.delete(url, headers=tenant.headers("alice"))
    assert _is_fallback(await http.get(url, headers=tenant.headers("alice")))


def test_recent_images_expire_and_can_be_turned_off() -> None:
    from pinhole.db.models import Image
    from pinhole.services.images import RecentImages

    now = [100.0]
    recent = RecentImages(ttl=2.0, limit=2, clock=lambda: now[0])
    rows = [Image(id=str(n)) for n in range(3)]
    for row in rows:
        recent.put(row)
    assert recent.get("0") is None  # evicted: over the limit
    assert recent.get("2") is rows[2]
    now[0] += 2.5
    assert recent.get("2") is None  # expired: another process may have changed it
    off = RecentImages(ttl=0)
    off.put(rows[0])
    assert off.get("0") is None


def test_recent_images_are_bounded_by_bytes_as_well_as_by_count() -> None:
    """Rows with long descriptions weigh more: the cache keeps its estimated bytes under `max_bytes`."""
    from pinhole.db.models import Image
    from pinhole.services.images import ROW_OVERHEAD, RecentImages, row_bytes

    recent = RecentImages(ttl=60.0, max_bytes=3 * ROW_OVERHEAD + 10_000)
    light = [Image(id=f"light-{n}") for n in range(3)]
    for row in light:
        recent.put(row)
    assert [recent.get(row.id) for row in light] == light
    heavy = Image(id="heavy", description="x" * 10_000)
    recent.put(heavy)  # 3 light rows + a heavy one do not fit: the oldest go first
    assert recent.get("light-0") is None
    assert recent.get("heavy") is heavy
    assert recent.bytes == sum(row_bytes(row) for _, row, _ in recent.rows.values()) <= recent.max_bytes
    recent.put(heavy)  # caching the same row again does not count it twice
    recent.forget("heavy")
    assert recent.bytes == sum(row_bytes(row) for _, row, _ in recent.rows.values())


async def test_a_hot_image_is_read_again_by_one_request_while_the_others_keep_the_expired_row(
    runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    """Every 2 s the record of a hot image expires; one request reads it again, the rest do not queue on the
    database meanwhile (they get the expired row for that one query), and a deleted image is not kept."""
    from pinhole.services.images import find_image_to_serve

    image_id = (await upload(http, tenant, img.make_png(8, 8)))["id"]
    recent = runtime.recent
    first = await find_image_to_serve(db=runtime.db, recent=recent, image_id=image_id)
    assert first is not None
    expires, row, version = recent.rows[image_id]
    recent.rows[image_id] = (expires - 3600, row, version)  # expired
    assert recent.get(image_id) is None
    with recent.refreshing(image_id):
        assert recent.get(image_id) is first  # another request during the refresh
    again = await find_image_to_serve(db=runtime.db, recent=recent, image_id=image_id)
    assert again is not None
    assert again is not first
    assert recent.get(image_id) is again
    recent.rows[image_id] = (expires - 3600, again, version)
    await http.delete(f"/v2/images/{image_id}", headers=tenant.headers())
    recent.rows[image_id] = (expires - 3600, again, version)  # as if deleted through another process
    assert await find_image_to_serve(db=runtime.db, recent=recent, image_id=image_id) is None
    assert image_id not in recent.rows
