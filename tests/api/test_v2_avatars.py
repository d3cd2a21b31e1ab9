"""Avatars: one per (client, external user), set and replaced atomically, served with and without a key (with the
image transform options), deleted with their blob; tenants never see each other's."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Avatar, Blob, Variant
from pinhole.runtime import Runtime
from tests.api.accounthelpers import make_account, upload_key_headers
from tests.api.v2helpers import stored_files
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


async def put_avatar(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    user: str | None = "alice",
    expect: int = 201,
) -> dict[str, Any]:
    fields = {"externalUserId": user} if user is not None else {}
    response = await http.post(
        "/v2/avatars", headers=headers, files={"file": ("me.png", data, "image/png")}, data=fields
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def _counts(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.db.reader() as session:
        counts = [await session.scalar(select(func.count()).select_from(t)) for t in (Avatar, Blob, Variant)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


def etag_of(response: httpx.Response) -> str:
    return response.headers["etag"].strip('"')


async def test_upload_then_serve_with_key_and_publicly(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    body = await put_avatar(http, tenant.headers(), img.make_png(40, 30))
    assert body["externalUserId"] == "alice"
    assert (body["format"], body["width"], body["height"]) == ("png", 40, 30)
    assert body["url"] == f"http://testserver/v2/avatars/{tenant.id}/alice"

    keyed = await http.get("/v2/avatars/alice", headers=tenant.headers())
    assert keyed.status_code == 200
    img.assert_image(keyed.content, format="png", width=40, height=30)
    assert etag_of(keyed) == body["etag"]
    assert keyed.headers["cache-control"] == "private, max-age=300"
    assert "X-API-Key" in keyed.headers["vary"]

    public = await http.get(body["url"])
    assert public.status_code == 200
    assert public.content == keyed.content
    assert public.headers["cache-control"] == "public, max-age=300"
    assert etag_of(public) == body["etag"]

    again = await http.get(body["url"], headers={"If-None-Match": public.headers["etag"]})
    assert again.status_code == 304
    head = await http.head(body["url"])
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(public.content))
    keyed_head = await http.head("/v2/avatars/alice", headers=tenant.headers())
    assert keyed_head.status_code == 200
    info = await http.get(f"{body['url']}?info=true")
    assert info.json() == body


async def test_transform_options(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    await put_avatar(http, tenant.headers(), img.make_jpeg(64, 48))
    small = await http.get("/v2/avatars/alice?w=32&format=webp", headers=tenant.headers())
    img.assert_image(small.content, format="webp", width=32, height=24)
    square = await http.get(f"/v2/avatars/{tenant.id}/alice?w=20&h=20&fit=cover&q=50")
    img.assert_image(square.content, format="jpeg", width=20, height=20)
    thumb = await http.get(f"/v2/avatars/{tenant.id}/alice?thumb=true")
    assert thumb.status_code == 200
    assert img.format_of(thumb.content) == "jpeg"
    bad = await http.get(f"/v2/avatars/{tenant.id}/alice?format=heic")  # readable, not writable
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "format"


@pytest.mark.parametrize("settings_overrides", [{"delivery": {"avatar_max_age": 42}}])
async def test_max_age_is_a_setting(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    await put_avatar(http, tenant.headers(), img.make_png(8, 8))
    response = await http.get(f"/v2/avatars/{tenant.id}/alice")
    assert response.headers["cache-control"] == "public, max-age=42"


async def test_missing_avatar(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    keyed = await http.get("/v2/avatars/nobody", headers=tenant.headers())
    assert keyed.status_code == 404
    assert keyed.json()["error"]["code"] == "avatar_not_found"
    public = await http.get(f"/v2/avatars/{tenant.id}/nobody")
    assert public.status_code == 200
    assert public.headers["x-pinhole-fallback"] == "1"
    assert public.headers["cache-control"] == "no-store"
    assert (await http.get(f"/v2/avatars/{tenant.id}/nobody?info=true")).status_code == 404
    assert (await http.get("/v2/avatars/unknown-client/nobody")).headers["x-pinhole-fallback"] == "1"
    assert (await http.delete("/v2/avatars/nobody", headers=tenant.headers())).status_code == 404
    assert (await http.get("/v2/avatars/nobody")).status_code == 401


async def test_replacement_releases_the_old_blob_and_variants(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    first = await put_avatar(http, tenant.headers(), img.make_png(40, 30))
    await http.get(f"/v2/avatars/{tenant.id}/alice?w=10")
    assert await _counts(runtime) == (1, 1, 1)

    second = await put_avatar(http, tenant.headers(), img.make_jpeg(64, 48), expect=200)
    assert second["etag"] != first["etag"]
    assert second["createdAt"] == first["createdAt"]
    assert await _counts(runtime) == (1, 1, 0)
    assert len(stored_files(runtime.settings)) == 1
    served = await http.get(f"/v2/avatars/{tenant.id}/alice?w=10")
    img.assert_image(served.content, format="jpeg", width=10, height=8)

    same = await put_avatar(http, tenant.headers(), img.make_jpeg(64, 48), expect=200)
    assert same["etag"] == second["etag"]
    assert await _counts(runtime) == (1, 1, 1)


async def test_delete(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    body = await put_avatar(http, tenant.headers("alice"), img.make_png(40, 30))
    await http.get(f"{body['url']}?w=12")  # a variant (and in-memory copies) to forget
    assert (await http.delete("/v2/avatars/alice", headers=tenant.headers("alice"))).status_code == 204
    assert await _counts(runtime) == (0, 0, 0)
    assert stored_files(runtime.settings) == []
    assert (await http.get("/v2/avatars/alice", headers=tenant.headers())).status_code == 404
    assert (await http.get(f"{body['url']}?w=12")).headers["x-pinhole-fallback"] == "1"
    assert (await http.delete("/v2/avatars/alice", headers=tenant.headers())).status_code == 404


async def test_who_names_the_user(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    png = img.make_png(16, 16)
    from_header = await put_avatar(http, tenant.headers("bob"), png, user=None)
    assert from_header["externalUserId"] == "bob"
    mismatch = await put_avatar(http, tenant.headers("bob"), png, user="alice", expect=403)
    assert mismatch["error"]["code"] == "forbidden"
    nobody = await put_avatar(http, tenant.headers(), png, user=None, expect=400)
    assert nobody["error"]["field"] == "externalUserId"
    assert (await http.delete("/v2/avatars/bob", headers=tenant.headers("alice"))).status_code == 403
    assert (await http.get("/v2/avatars/bob", headers=tenant.headers("alice"))).status_code == 200
    assert await _counts(runtime) == (1, 1, 0)


async def test_bad_file_changes_nothing(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    body = await put_avatar(http, tenant.headers(), img.make_png(40, 30))
    refused = await put_avatar(http, tenant.headers(), b"GIF89a not really", expect=422)
    assert refused["error"]["code"] in ("corrupt_image", "unsupported_format")
    missing = await http.post("/v2/avatars", headers=tenant.headers(), data={"externalUserId": "alice"})
    assert missing.status_code == 400
    served = await http.get(body["url"])
    assert etag_of(served) == body["etag"]
    assert len(stored_files(runtime.settings)) == 1


async def test_accounts_have_their_own_avatar(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime, "olivia")
    body = await put_avatar(http, owner.headers(), img.make_png(16, 16), user=None)
    assert body["externalUserId"] == owner.id
    assert (await http.get(f"/v2/avatars/{owner.id}", headers=owner.headers())).status_code == 200
    other = await make_account(runtime, "oscar")
    assert await put_avatar(http, other.headers(), img.make_png(8, 8), user=owner.id, expect=403)
    assert (await http.delete(f"/v2/avatars/{owner.id}", headers=other.headers())).status_code == 403
    upload_only = await upload_key_headers(runtime, owner)
    await put_avatar(http, upload_only, img.make_png(8, 8), user=None, expect=403)


async def test_tenants_are_isolated(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    mine = await put_avatar(http, tenant.headers(), img.make_png(40, 30))
    assert (await http.get("/v2/avatars/alice", headers=other_tenant.headers())).status_code == 404
    assert (await http.delete("/v2/avatars/alice", headers=other_tenant.headers())).status_code == 404

    theirs = await put_avatar(http, other_tenant.headers(), img.make_jpeg(64, 48))  # their own alice
    assert theirs["url"] != mine["url"]
    assert etag_of(await http.get("/v2/avatars/alice", headers=tenant.headers())) == mine["etag"]
    assert etag_of(await http.get("/v2/avatars/alice", headers=other_tenant.headers())) == theirs["etag"]
    assert etag_of(await http.get(mine["url"])) == mine["etag"]
    assert (await http.delete("/v2/avatars/alice", headers=other_tenant.headers())).status_code == 204
    assert etag_of(await http.get(mine["url"])) == mine["etag"]


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"enabled": False}}])
@pytest.mark.parametrize("query", ["", "?w=16&format=png"])
async def test_replacement_under_concurrent_reads(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, query: str
) -> None:
    """Every read during repeated replacements is a 200 with the old or the new picture, never an error."""
    pictures = [img.make_png(40, 30), img.make_jpeg(64, 48), img.make_webp(32, 32), img.make_gif(24, 24)]
    etags = {(await put_avatar(http, tenant.headers(), pictures[0]))["etag"]}
    done = asyncio.Event()
    reads = 0

    async def replace() -> None:
        for round_ in range(8):
            # Each replacement waits until readers got answers since the last one, so reads and replacements
            # interleave however slowly this machine renders variants (a slow first variant once starved the reads).
            wanted = reads + 3
            while reads < wanted:
                await asyncio.sleep(0.001)
            body = await put_avatar(http, tenant.headers(), pictures[(round_ + 1) % len(pictures)], expect=200)
            etags.add(body["etag"])
        done.set()

    async def read(public: bool) -> list[httpx.Response]:
        nonlocal reads
        seen = []
        while not done.is_set():
            url = f"/v2/avatars/{tenant.id}/alice{query}" if public else f"/v2/avatars/alice{query}"
            seen.append(await http.get(url, headers={} if public else tenant.headers()))
            reads += 1
        return seen

    results = await asyncio.gather(replace(), *(read(public=n % 2 == 0) for n in range(10)))
    responses = [response for seen in results[1:] if seen for response in seen]
    assert len(responses) >= 8 * 3
    for response in responses:
        assert response.status_code == 200, response.text
        assert "x-pinhole-fallback" not in response.headers
        if not query:  # the original: its ETag is its content's hash, which must be one of the uploads
            assert etag_of(response) in etags
            assert hashlib.sha256(response.content).hexdigest()[:32] == etag_of(response)
        else:
            img.assert_image(response.content, format="png", width=16, height=response_height(response))
    avatars, blobs, _ = await _counts(runtime)
    assert (avatars, blobs) == (1, 1)  # every replaced original went, and its variants
    async with runtime.db.reader() as session:
        current = await session.scalar(select(Avatar.content_hash))
    assert current is not None
    assert {path.name for path in stored_files(runtime.settings) if "originals" in path.parts} == {current}
    assert {path.parent.name for path in stored_files(runtime.settings) if "variants" in path.parts} <= {current}


def response_height(response: httpx.Response) -> int:
    """16 px wide variants of the uploads: 40x30 → 12, 64x48 → 12, squares → 16."""
    height: int = img.open_image(response.content).height
    assert height in (12, 16)
    return height
