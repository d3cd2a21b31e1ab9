"""Deletion semantics: images are aliases onto blobs, and a blob (original, variants, in-process copies) goes with
the last image or avatar that refers to it, unless it is preserved (`DELETE ...?preserveOnDisk=true`, admins only)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Album, AlbumImage, Blob, Image, Variant
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.storage.keys import original_key
from tests.api.accounthelpers import make_account
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


async def _blob(runtime: Runtime, content_hash: str) -> Blob | None:
    async with runtime.db.reader() as session:
        return await session.get(Blob, content_hash)


async def _variant_keys(runtime: Runtime, content_hash: str) -> list[str]:
    async with runtime.db.reader() as session:
        return list(await session.scalars(select(Variant.key).where(Variant.content_hash == content_hash)))


async def _content_hash(runtime: Runtime, image_id: str) -> str:
    async with runtime.db.reader() as session:
        image = await session.get(Image, image_id)
    assert image is not None
    return image.content_hash


async def _exists(runtime: Runtime, key: str) -> bool:
    return await runtime.store.stat(key) is not None


async def _render(http: httpx.AsyncClient, image_id: str) -> bytes:
    response = await http.get(f"/v2/images/{image_id}?w=16&format=png")
    assert response.status_code == 200, response.text
    img.assert_image(response.content, format="png", width=16, height=12)
    return response.content


async def test_shared_blob_survives_until_the_last_image_goes(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = img.make_jpeg(64, 48)
    first = (await upload(http, tenant, data))["id"]
    second = (await upload(http, tenant, data))["id"]
    content_hash = await _content_hash(runtime, first)
    assert await _content_hash(runtime, second) == content_hash
    await _render(http, first)
    variants = await _variant_keys(runtime, content_hash)
    assert len(variants) == 1

    response = await http.delete(f"/v2/images/{first}", headers=tenant.headers())
    assert response.status_code == 204
    assert await _blob(runtime, content_hash) is not None
    assert await _exists(runtime, original_key(content_hash))
    assert await _exists(runtime, variants[0])
    await _render(http, second)  # the shared variant still serves the other image

    response = await http.delete(f"/v2/images/{second}", headers=tenant.headers())
    assert response.status_code == 204
    assert await _blob(runtime, content_hash) is None
    assert await _variant_keys(runtime, content_hash) == []
    assert stored_files(runtime.settings) == []
    assert not any(v.cache_key[0] == content_hash for v in runtime.variants.known.values())
    assert not any(key in (variants[0], original_key(content_hash)) for key, _ in runtime.hot.items)


async def test_last_reference_deletes_file_and_variants(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    kept = (await upload(http, tenant, img.make_png(40, 30)))["id"]
    gone = (await upload(http, tenant, img.make_jpeg(64, 48)))["id"]
    content_hash = await _content_hash(runtime, gone)
    for _ in range(2):  # the second request is served from the process's caches
        await _render(http, gone)
    variants = await _variant_keys(runtime, content_hash)

    assert (await http.delete(f"/v2/images/{gone}", headers=tenant.headers())).status_code == 204

    assert await _blob(runtime, content_hash) is None
    assert not await _exists(runtime, original_key(content_hash))
    assert not [key for key in variants if await _exists(runtime, key)]
    fallback = await http.get(f"/v2/images/{gone}?w=16&format=png")
    assert fallback.headers["x-pinhole-fallback"] == "1"
    assert (await http.get(f"/v2/images/{kept}")).status_code == 200
    assert await _exists(runtime, original_key(await _content_hash(runtime, kept)))


async def test_admin_delete_with_preserve_on_disk_keeps_the_file(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    admin = await make_account(runtime, "ada", role=Role.ADMIN)
    image_id = (await upload(http, tenant, user="alice"))["id"]
    content_hash = await _content_hash(runtime, image_id)
    await _render(http, image_id)

    response = await http.delete(f"/v2/images/{image_id}?preserveOnDisk=true", headers=admin.headers())
    assert response.status_code == 204

    info = await http.get(f"/v2/images/{image_id}?info=true", headers=tenant.headers("alice"))
    assert info.status_code == 404
    blob = await _blob(runtime, content_hash)
    assert blob is not None
    assert blob.preserved
    assert await _exists(runtime, original_key(content_hash))
    assert await _variant_keys(runtime, content_hash) == []  # variants are a cache: they go

    # The preserved original serves a new upload of the same bytes, and outlives that image too.
    again = (await upload(http, tenant, user="alice"))["id"]
    assert await _content_hash(runtime, again) == content_hash
    assert (await http.delete(f"/v2/images/{again}", headers=tenant.headers("alice"))).status_code == 204
    assert await _exists(runtime, original_key(content_hash))


@pytest.mark.parametrize("who", ["owner", "client"])
async def test_preserve_on_disk_is_for_admins_only(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, who: str
) -> None:
    user = "alice" if who == "owner" else None  # a client key owns the images uploaded without X-User-Id
    image_id = (await upload(http, tenant, user=user))["id"]
    headers = tenant.headers(user)
    response = await http.delete(f"/v2/images/{image_id}?preserveOnDisk=true", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await http.get(f"/v2/images/{image_id}?info=true", headers=headers)).status_code == 200
    assert (await http.delete(f"/v2/images/{image_id}?preserveOnDisk=maybe", headers=headers)).status_code == 400
    assert (await http.delete(f"/v2/images/{image_id}?preserveOnDisk=false", headers=headers)).status_code == 204


async def test_other_tenants_cannot_delete(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    image_id = (await upload(http, tenant))["id"]
    response = await http.delete(f"/v2/images/{image_id}", headers=other_tenant.headers())
    assert response.status_code == 404
    assert (await http.get(f"/v2/images/{image_id}?info=true", headers=tenant.headers())).status_code == 200


async def test_delete_removes_the_image_from_its_albums(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    image_id = (await upload(http, tenant))["id"]
    async with runtime.db.writer() as session:
        album = Album(client_id=tenant.id, name="trip")
        session.add(album)
        await session.flush()
        session.add(AlbumImage(album_id=album.id, image_id=image_id))

    assert (await http.delete(f"/v2/images/{image_id}", headers=tenant.headers())).status_code == 204

    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(AlbumImage)) == 0
        assert await session.scalar(select(func.count()).select_from(Album)) == 1


async def test_an_avatar_keeps_a_blob_alive(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    data = img.make_png(40, 30)
    image_id = (await upload(http, tenant, data))["id"]
    content_hash = await _content_hash(runtime, image_id)
    response = await http.post(
        "/v2/avatars",
        headers=tenant.headers(),
        files={"file": ("a.png", data, "image/png")},
        data={"externalUserId": "alice"},
    )
    assert response.status_code == 201, response.text

    assert (await http.delete(f"/v2/images/{image_id}", headers=tenant.headers())).status_code == 204
    assert await _exists(runtime, original_key(content_hash))
    served = await http.get(f"/v2/avatars/{tenant.id}/alice")
    assert served.status_code == 200
    assert "x-pinhole-fallback" not in served.headers

    assert (await http.delete("/v2/avatars/alice", headers=tenant.headers())).status_code == 204
    assert await _blob(runtime, content_hash) is None
    assert stored_files(runtime.settings) == []
