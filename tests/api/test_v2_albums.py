"""v2 albums: CRUD, batch image changes, visibility of public/private albums, tokens, and upload into an album."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from pinhole.db.models import Album, AlbumImage, AlbumToken, Image, utcnow
from pinhole.errors import AlbumNotFound
from pinhole.runtime import Runtime
from pinhole.services.ingest import NewImage, ingest_image
from tests.api.accounthelpers import make_account
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio


async def make_album(
    http: httpx.AsyncClient, tenant: ApiClient, user: str = "alice", expect: int = 201, **body: Any
) -> dict[str, Any]:
    response = await http.post("/v2/albums", headers=tenant.headers(user), json={"name": "Trip", **body})
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def add(
    http: httpx.AsyncClient, tenant: ApiClient, album: str, ids: list[str], user: str = "alice", method: str = "POST"
) -> httpx.Response:
    return await http.request(
        method, f"/v2/albums/{album}/images", headers=tenant.headers(user), json={"imageIds": ids}
    )


async def album_ids(runtime: Runtime, album_id: str) -> set[str]:
    async with runtime.db.reader() as session:
        return set(await session.scalars(select(AlbumImage.image_id).where(AlbumImage.album_id == album_id)))


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def test_album_lifecycle(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    album = await make_album(http, tenant, description="Summer", albumId="ext-1")
    assert album["name"] == "Trip"
    assert album["albumId"] == "ext-1"
    assert album["isPublic"] is False
    assert album["externalUserId"] == "alice"
    assert album["imageCount"] == 0
    got = await http.get(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))
    assert got.status_code == 200
    assert got.json() == album
    by_external = await http.get("/v2/albums/ext-1", headers=tenant.headers("alice"))
    assert by_external.json()["id"] == album["id"]

    patched = await http.patch(
        f"/v2/albums/{album['id']}",
        headers=tenant.headers("alice"),
        json={"name": " Trip 2 ", "description": None, "isPublic": True, "albumId": "ext-2"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["description"], body["isPublic"], body["albumId"]) == ("Trip 2", None, True, "ext-2")
    assert (await http.get("/v2/albums/ext-1", headers=tenant.headers("alice"))).status_code == 404

    image = await upload(http, tenant, user="alice")
    assert (await add(http, tenant, album["id"], [image["id"]])).json()["imageCount"] == 1
    deleted = await http.delete(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))
    assert deleted.status_code == 204
    assert (await http.get(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))).status_code == 404
    # The album only: its image stays.
    served = await http.get(f"/v2/images/{image['id']}", params={"info": "true"}, headers=tenant.headers("alice"))
    assert served.status_code == 200
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(AlbumImage)) == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v2/albums", {"name": "x"}),
        ("GET", "/v2/albums", None),
        ("GET", "/v2/albums/{id}", None),
        ("PATCH", "/v2/albums/{id}", {"name": "y"}),
        ("DELETE", "/v2/albums/{id}", None),
        ("POST", "/v2/albums/{id}/images", {"imageIds": ["x"]}),
        ("GET", "/v2/albums/{id}/images", None),
        ("POST", "/v2/albums/{id}/tokens", {}),
    ],
)
async def test_client_keys_need_x_user_id(
    http: httpx.AsyncClient, tenant: ApiClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    album = await make_album(http, tenant)
    response = await http.request(method, path.format(id=album["id"]), headers=tenant.headers(), json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"], error["status"]) == ("missing_user_id", "X-User-Id", 400)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": "x", "isPublic": "maybe"}, {"name": "x", "y": 1}],
)
async def test_bad_album_bodies_are_400(http: httpx.AsyncClient, tenant: ApiClient, body: dict[str, Any]) -> None:
    response = await http.post("/v2/albums", headers=tenant.headers("alice"), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_input"


async def test_album_id_is_unique_per_client(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    first = await make_album(http, tenant, albumId="same")
    duplicate = await make_album(http, tenant, user="bob", albumId="same", expect=409)
    assert duplicate["error"]["code"] == "conflict"
    assert duplicate["error"]["field"] == "albumId"
    await make_album(http, other_tenant, albumId="same")  # another client's ids are its own
    second = await make_album(http, tenant, albumId="other")
    clash = await http.patch(f"/v2/albums/{second['id']}", headers=tenant.headers("alice"), json={"albumId": "same"})
    assert clash.status_code == 409
    # The other client's own album is found by that client's external id, never ours.
    theirs = await http.get("/v2/albums/same", headers=other_tenant.headers("alice"))
    assert theirs.status_code == 200
    assert theirs.json()["id"] != first["id"]
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Album)) == 3


async def test_private_albums_are_404_for_everyone_else(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    album = await make_album(http, tenant, albumId="secret")
    for headers in (tenant.headers("bob"), other_tenant.headers("alice"), {}):
        for path in (f"/v2/albums/{album['id']}", f"/v2/albums/{album['id']}/images"):
            response = await http.get(path, headers=headers)
            assert response.status_code == 404, (path, headers)
            assert response.json()["error"]["code"] == "album_not_found"
    assert (await http.get("/v2/albums/secret", headers=other_tenant.headers("alice"))).status_code == 404
    for headers in (tenant.headers("bob"), other_tenant.headers("alice")):
        patch = await http.patch(f"/v2/albums/{album['id']}", headers=headers, json={"name": "mine"})
        assert patch.status_code == 404
        assert (await http.delete(f"/v2/albums/{album['id']}", headers=headers)).status_code == 404
    listed = await http.get("/v2/albums", headers=tenant.headers("bob"))
    assert album["id"] not in ids(listed)


async def test_public_album_shows_only_public_images_to_others(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    album = await make_album(http, tenant, isPublic=True)
    public = await upload(http, tenant, user="alice")
    private = await upload(http, tenant, user="alice", fields={"isPrivate": "true"})
    assert (await add(http, tenant, album["id"], [public["id"], private["id"]])).status_code == 200
    path = f"/v2/albums/{album['id']}/images"
    assert set(ids(await http.get(path, headers=tenant.headers("alice")))) == {public["id"], private["id"]}
    for headers in ({}, tenant.headers("bob"), other_tenant.headers("alice")):
        assert ids(await http.get(path, headers=headers)) == [public["id"]]
        details = await http.get(f"/v2/albums/{album['id']}", headers=headers)
        assert details.status_code == 200
        assert details.json()["imageCount"] == 1
    assert (await http.get(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))).json()["imageCount"] == 2
    # Public, but still only its owner changes it.
    bob = await http.patch(f"/v2/albums/{album['id']}", headers=tenant.headers("bob"), json={"name": "bob's"})
    assert bob.status_code == 403
    assert (await http.patch(f"/v2/albums/{album['id']}", json={"name": "x"})).status_code == 401
    # The other user lists it among the albums it may read; another client does not.
    assert album["id"] in ids(await http.get("/v2/albums", headers=tenant.headers("bob")))
    assert album["id"] not in ids(await http.get("/v2/albums", headers=other_tenant.headers("alice")))
    mine = await http.get("/v2/albums", params={"owner": "bob"}, headers=tenant.headers("bob"))
    assert ids(mine) == []


async def test_batch_changes_are_idempotent_and_all_or_nothing(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    album = await make_album(http, tenant)
    first = await upload(http, tenant, user="alice")
    second = await upload(http, tenant, user="alice")
    added = await add(http, tenant, album["id"], [first["id"], first["id"], second["id"]])
    assert added.status_code == 200
    assert added.json()["imageCount"] == 2
    again = await add(http, tenant, album["id"], [first["id"]])
    assert again.json()["imageCount"] == 2

    bobs_public = await upload(http, tenant, user="bob")
    bobs_private = await upload(http, tenant, user="bob", fields={"isPrivate": "true"})
    foreign = await upload(http, other_tenant, user="alice")
    third = await upload(http, tenant, user="alice")
    missing = await add(http, tenant, album["id"], [third["id"], bobs_private["id"], foreign["id"], "nope"])
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "image_not_found"
    assert error["details"]["imageIds"] == [bobs_private["id"], foreign["id"], "nope"]
    assert foreign["id"] in error["message"]
    refused = await add(http, tenant, album["id"], [third["id"], bobs_public["id"]])
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["imageIds"] == [bobs_public["id"]]
    assert await album_ids(runtime, album["id"]) == {first["id"], second["id"]}

    removed = await add(http, tenant, album["id"], [first["id"], third["id"]], method="DELETE")
    assert removed.status_code == 200
    assert removed.json()["imageCount"] == 1
    assert (await add(http, tenant, album["id"], [first["id"]], method="DELETE")).status_code == 200
    assert await album_ids(runtime, album["id"]) == {second["id"]}
    # The images themselves are untouched.
    info = await http.get(f"/v2/images/{first['id']}", params={"info": "true"}, headers=tenant.headers("alice"))
    assert info.status_code == 200

    bodies: list[dict[str, list[str]]] = [{"imageIds": []}, {"imageIds": ["x"] * 101}, {"imageIds": ["x" * 65]}, {}]
    for body in bodies:
        bad = await http.post(f"/v2/albums/{album['id']}/images", headers=tenant.headers("alice"), json=body)
        assert bad.status_code == 400
    bob = await add(http, tenant, album["id"], [bobs_public["id"]], user="bob")
    assert bob.status_code == 404


async def test_album_images_page_and_filter_like_image_listing(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    album = await make_album(http, tenant)
    images = [await upload(http, tenant, user="alice", fields={"tags": "red" if n % 2 else "blue"}) for n in range(5)]
    outside = await upload(http, tenant, user="alice", fields={"tags": "red"})
    await add(http, tenant, album["id"], [image["id"] for image in images])
    path = f"/v2/albums/{album['id']}/images"
    headers = tenant.headers("alice")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        response = await http.get(path, params=params, headers=headers)
        seen += ids(response)
        cursor = response.json()["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == [image["id"] for image in reversed(images)]
    red = await http.get(path, params={"tag": "red", "page": "1", "limit": "10"}, headers=headers)
    assert set(ids(red)) == {images[1]["id"], images[3]["id"]}
    assert outside["id"] not in ids(red)
    assert red.json()["pagination"]["total"] == 2
    both = await http.get(path, params={"page": "1", "cursor": "x"}, headers=headers)
    assert both.status_code == 400


async def test_albums_list_pages(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    made = [await make_album(http, tenant, name=f"a{n}") for n in range(3)]
    first = await http.get("/v2/albums", params={"limit": "2"}, headers=tenant.headers("alice"))
    assert ids(first) == [made[2]["id"], made[1]["id"]]
    assert first.json()["pagination"]["total"] == 3
    assert first.json()["pagination"]["totalPages"] == 2
    cursor = first.json()["pagination"]["nextCursor"]
    rest = await http.get("/v2/albums", params={"limit": "2", "cursor": cursor}, headers=tenant.headers("alice"))
    assert ids(rest) == [made[0]["id"]]
    assert rest.json()["pagination"]["nextCursor"] is None
    bad = await http.get("/v2/albums", params={"cursor": "!!"}, headers=tenant.headers("alice"))
    assert bad.status_code == 400


async def test_tokens_open_the_album_and_its_images_only(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    album = await make_album(http, tenant)
    inside = await upload(http, tenant, user="alice", fields={"isPrivate": "true"})
    outside = await upload(http, tenant, user="alice", fields={"isPrivate": "true"})
    await add(http, tenant, album["id"], [inside["id"]])
    made = await http.post(f"/v2/albums/{album['id']}/tokens", headers=tenant.headers("alice"), json={})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert token.startswith("alb_")
    assert made.json()["url"].endswith(f"/v2/albums/{album['id']}?token={token}")
    async with runtime.db.reader() as session:
        stored = list(await session.scalars(select(AlbumToken.token_hash)))
    assert token not in stored
    assert len(stored) == 1

    assert (await http.get(f"/v2/albums/{album['id']}", params={"token": token})).status_code == 200
    assert ids(await http.get(f"/v2/albums/{album['id']}/images", params={"token": token})) == [inside["id"]]
    served = await http.get(f"/v2/images/{inside['id']}", params={"token": token})
    assert served.status_code == 200
    assert "x-pinhole-fallback" not in served.headers
    info = await http.get(f"/v2/images/{inside['id']}", params={"token": token, "info": "true"})
    assert info.status_code == 200
    # Nothing else: not an image outside the album, not another album, no changes.
    refused = await http.get(f"/v2/images/{outside['id']}", params={"token": token})
    assert refused.headers.get("x-pinhole-fallback") == "1"
    other = await make_album(http, tenant)
    assert (await http.get(f"/v2/albums/{other['id']}", params={"token": token})).status_code == 404
    patch = await http.patch(f"/v2/albums/{album['id']}", params={"token": token}, json={"name": "x"})
    assert patch.status_code == 401
    change = await http.patch(f"/v2/images/{inside['id']}", params={"token": token}, json={"description": "x"})
    assert change.status_code == 401

    # Someone else may not make or revoke tokens.
    bob = await http.post(f"/v2/albums/{album['id']}/tokens", headers=tenant.headers("bob"), json={})
    assert bob.status_code == 404
    assert (
        await http.delete(f"/v2/albums/{album['id']}/tokens/{token}", headers=tenant.headers("bob"))
    ).status_code == 404
    wrong_album = await http.delete(f"/v2/albums/{other['id']}/tokens/{token}", headers=tenant.headers("alice"))
    assert wrong_album.status_code == 404
    revoked = await http.delete(f"/v2/albums/{album['id']}/tokens/{token}", headers=tenant.headers("alice"))
    assert revoked.status_code == 204
    assert (await http.get(f"/v2/albums/{album['id']}", params={"token": token})).status_code == 404
    gone = await http.get(f"/v2/images/{inside['id']}", params={"token": token})
    assert gone.headers.get("x-pinhole-fallback") == "1"


async def test_expired_and_removed_tokens_open_nothing(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    album = await make_album(http, tenant)
    image = await upload(http, tenant, user="alice", fields={"isPrivate": "true"})
    await add(http, tenant, album["id"], [image["id"]])
    made = await http.post(f"/v2/albums/{album['id']}/tokens", headers=tenant.headers("alice"), json={"expiresIn": 60})
    assert made.status_code == 201
    assert made.json()["expiresAt"] is not None
    token = made.json()["token"]
    assert (await http.get(f"/v2/images/{image['id']}", params={"token": token})).status_code == 200
    # Taking the image out of the album closes it to the token.
    await add(http, tenant, album["id"], [image["id"]], method="DELETE")
    assert (await http.get(f"/v2/images/{image['id']}", params={"token": token})).headers.get("x-pinhole-fallback")
    await add(http, tenant, album["id"], [image["id"]])
    async with runtime.db.writer() as session:
        await session.execute(update(AlbumToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await http.get(f"/v2/albums/{album['id']}", params={"token": token})).status_code == 404
    bad = await http.post(f"/v2/albums/{album['id']}/tokens", headers=tenant.headers("alice"), json={"expiresIn": 0})
    assert bad.status_code == 400


async def test_upload_into_an_album(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    album = await make_album(http, tenant, albumId="ext")
    image = await upload(http, tenant, user="alice", fields={"albumId": album["id"]})
    by_external = await upload(http, tenant, user="alice", fields={"albumId": "ext"})
    assert await album_ids(runtime, album["id"]) == {image["id"], by_external["id"]}

    bobs_public = await make_album(http, tenant, user="bob", isPublic=True)
    bobs_private = await make_album(http, tenant, user="bob")
    before = stored_files(runtime.settings)
    for ref, status, code in (
        ("0b7c9e0e-5f1a-4c55-9d8a-3e1f2a6b7c8d", 404, "album_not_found"),
        (bobs_private["id"], 404, "album_not_found"),
        (bobs_public["id"], 403, "forbidden"),
    ):
        refused = await upload(http, tenant, make_jpeg(20, 20), user="alice", fields={"albumId": ref}, expect=status)
        assert (refused["error"]["code"], refused["error"]["field"]) == (code, "albumId")
    assert stored_files(runtime.settings) == before
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Image)) == 2


async def test_an_album_gone_before_the_upload_commits_stores_nothing(runtime: Runtime, tenant: ApiClient) -> None:
    path = runtime.settings.tmp_dir / "upload.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_jpeg(24, 24))
    upload_ = NewImage(
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        client_id=tenant.id,
        owner_id="alice",
        album_id="0b7c9e0e-5f1a-4c55-9d8a-3e1f2a6b7c8d",
    )
    with pytest.raises(AlbumNotFound):
        await ingest_image(
            db=runtime.db, store=runtime.store, pool=runtime.pool, policy=runtime.ingest_policy, upload=upload_
        )
    path.unlink(missing_ok=True)
    assert [p for p in stored_files(runtime.settings) if "blobs" in p.parts] == []
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Image)) == 0


async def test_accounts_own_their_albums(http: httpx.AsyncClient, runtime: Runtime) -> None:
    olivia = await make_account(runtime)
    oscar = await make_account(runtime)
    made = await http.post("/v2/albums", headers=olivia.headers(), json={"name": "Mine"})
    assert made.status_code == 201
    assert made.json()["externalUserId"] == olivia.id
    album_id = made.json()["id"]
    image = await http.post(
        "/v2/images",
        headers=olivia.headers(),
        files={"file": ("a.jpg", make_jpeg(16, 16), "image/jpeg")},
        data={"albumId": album_id, "isPrivate": "true"},
    )
    assert image.status_code == 201
    listed = await http.get(f"/v2/albums/{album_id}/images", headers=olivia.headers())
    assert ids(listed) == [image.json()["id"]]
    assert (await http.get(f"/v2/albums/{album_id}", headers=oscar.headers())).status_code == 404
    assert ids(await http.get("/v2/albums", headers=olivia.headers())) == [album_id]


async def test_deleting_an_image_takes_it_out_of_its_albums(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    album = await make_album(http, tenant)
    kept = await upload(http, tenant, user="alice")
    dropped = await upload(http, tenant, user="alice", data=make_jpeg(30, 30))
    await add(http, tenant, album["id"], [kept["id"], dropped["id"]])
    deleted = await http.delete(f"/v2/images/{dropped['id']}", headers=tenant.headers("alice"))
    assert deleted.status_code == 204
    got = await http.get(f"/v2/albums/{album['id']}", headers=tenant.headers("alice"))
    assert got.json()["imageCount"] == 1
    assert ids(await http.get(f"/v2/albums/{album['id']}/images", headers=tenant.headers("alice"))) == [kept["id"]]
