"""The Slink API document, top to bottom, through the real app.

Authentication (JWT sign-in, `sk_` keys, guests), the three uploads, serving with w/h/crop, details, the listings
with their `meta`, changing and deleting, then the two documented validation errors and the other refusals.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from pinhole.db.models import Image
from pinhole.imaging.options import make_transform
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from tests.api.accounthelpers import PASSWORD, Account, make_account, personal_key_headers
from tests.api.v2helpers import assert_head_matches_get, stored_files
from tests.support import images as img


def size_of(data: bytes) -> tuple[int, int]:
    image = img.open_image(data)
    return image.width, image.height


pytestmark = pytest.mark.anyio

GUESTS_ON = {"accounts": {"guest_uploads": True}}


def jwt(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes | None = None,
    *,
    path: str = "/api/upload",
    method: str = "POST",
    field: str = "image",
    content_type: str = "image/jpeg",
    filename: str = "photo.jpg",
) -> httpx.Response:
    body = img.make_jpeg(64, 48) if data is None else data
    return await http.request(method, path, headers=headers, files={field: (filename, body, content_type)})


async def uploaded(http: httpx.AsyncClient, headers: dict[str, str], data: bytes | None = None, **kw: Any) -> str:
    response = await upload(http, headers, data, **kw)
    assert response.status_code == 201, response.text
    image_id: str = response.json()["id"]
    return image_id


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The document's error shape: error with title, message and violations."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"title", "message", "violations"}
    assert body["error"]["title"] == "Symfony.Component.HttpKernel.Exception.HttpException"
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def assert_violation(response: httpx.Response, prop: str) -> str:
    error = assert_error(response, 422)
    assert error["message"] == "Validation Error"
    assert len(error["violations"]) == 1
    assert set(error["violations"][0]) == {"property", "message"}
    assert error["violations"][0]["property"] == prop
    message: str = error["violations"][0]["message"]
    return message


# --- Authentication: sign in for the JWT ---------------------------------------------------------------------


async def test_login_with_username_or_email_gives_tokens_that_work(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    for body in ({"username": account.username}, {"username": account.email}, {"email": account.email}):
        response = await http.post("/api/auth/login", json=body | {"password": PASSWORD})
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert tokens["token_type"] == "Bearer"
        assert isinstance(tokens["expires_in"], int)
        assert response.headers["cache-control"] == "no-store"
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await http.get("/api/images/history/1", headers=headers)).status_code == 200


async def test_login_refusals(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    wrong = await http.post("/api/auth/login", json={"username": account.username, "password": "not it at all"})
    assert assert_error(wrong, 401)["violations"] == []
    assert_violation(await http.post("/api/auth/login", json={"password": PASSWORD}), "username")
    assert_violation(await http.post("/api/auth/login", json={"username": account.username}), "password")


async def test_refresh_rotates_and_logout_ends_the_session(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    login = (await http.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})).json()
    refreshed = await http.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["refresh_token"] != login["refresh_token"]
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await http.post("/api/auth/logout", headers=headers)).status_code == 204
    assert_error(await http.get("/api/images/history/1", headers=headers), 401)
    assert_error(await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)
    assert_error(await http.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]}), 401)


async def test_logout_with_a_refresh_token_and_without_anything(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    response = await http.post("/api/auth/logout", json={"refresh_token": account.refresh_token})
    assert response.status_code == 204
    assert_error(await http.get("/api/images/history/1", headers=jwt(account)), 401)
    assert_error(await http.post("/api/auth/logout"), 401)


# --- POST|PUT /api/upload (JWT) ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_upload_with_jwt_answers_201_with_the_id(http: httpx.AsyncClient, runtime: Runtime, method: str) -> None:
    account = await make_account(runtime)
    response = await upload(http, jwt(account), method=method)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    image_id = response.json()["id"]
    detail = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(account))).json()
    assert (detail["width"], detail["height"]) == (64, 48)


async def test_upload_needs_the_jwt(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    assert_error(await upload(http, {}), 401)
    assert_error(await upload(http, await personal_key_headers(runtime, account)), 401)
    assert_error(await upload(http, {"Authorization": "Bearer not-a-token"}), 401)
    assert stored_files(runtime.settings) == []


# --- POST|PUT /api/guest/upload ------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [GUESTS_ON])
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_guest_upload_when_enabled(http: httpx.AsyncClient, method: str) -> None:
    response = await upload(http, {}, path="/api/guest/upload", method=method)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    served = await http.get(f"/image/{response.json()['id']}.jpg")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


async def test_guest_upload_when_disabled_is_refused(http: httpx.AsyncClient, runtime: Runtime) -> None:
    error = assert_error(await upload(http, {}, path="/api/guest/upload"), 403)
    assert "Guest uploads are disabled" in error["message"]
    assert stored_files(runtime.settings) == []


# --- POST|PUT /api/external/upload (sk_ API key) -------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_external_upload_answers_urls_that_work(http: httpx.AsyncClient, runtime: Runtime, method: str) -> None:
    account = await make_account(runtime)
    key = await personal_key_headers(runtime, account)
    assert key["Authorization"].startswith("Bearer sk_")
    response = await upload(http, key, img.make_jpeg(800, 600), path="/api/external/upload", method=method)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "url", "thumbnailUrl"}
    assert body["url"] == f"/api/image/{body['id']}.jpg"
    assert body["thumbnailUrl"] == f"/api/image/{body['id']}_thumbnail.jpg"
    original = await http.get(body["url"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert size_of(original.content) == (800, 600)
    thumbnail = await http.get(body["thumbnailUrl"])
    assert thumbnail.status_code == 200
    assert size_of(thumbnail.content) == (300, 225)
    assert_error(await http.get(f"/api/image/{body['id']}"), 404)


async def test_external_upload_takes_only_api_keys(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    assert_error(await upload(http, jwt(account), path="/api/external/upload"), 401)
    assert_error(await upload(http, {}, path="/api/external/upload"), 401)
    assert_error(await upload(http, {"Authorization": "Bearer sk_nope"}, path="/api/external/upload"), 401)


# --- GET /image/{id}.{ext} with w, h, crop -------------------------------------------------------------------


async def test_serving_with_w_h_crop_and_the_extension_picking_the_format(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    image_id = await uploaded(http, jwt(account), img.make_jpeg(1600, 1200))
    await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": True})
    plain = await http.get(f"/image/{image_id}.jpg")
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "image/jpeg"
    assert size_of(plain.content) == (1600, 1200)
    boxed = await http.get(f"/image/{image_id}.jpg", params={"w": 800, "h": 600})
    assert size_of(boxed.content) == (800, 600)
    inside = await http.get(f"/image/{image_id}.jpg", params={"w": 400, "h": 400})
    assert size_of(inside.content) == (400, 300)
    cropped = await http.get(f"/image/{image_id}.jpg", params={"w": 400, "h": 400, "crop": "true"})
    assert size_of(cropped.content) == (400, 400)
    wide = await http.get(f"/image/{image_id}.jpg", params={"w": 800})
    assert size_of(wide.content) == (800, 600)
    webp = await http.get(f"/image/{image_id}.webp", params={"w": 300, "crop": "true"})
    assert webp.headers["content-type"] == "image/webp"
    assert size_of(webp.content) == (300, 225)
    png = await http.get(f"/image/{image_id}.png")
    assert png.headers["content-type"] == "image/png"
    assert_error(await http.get(f"/image/{image_id}.nope"), 404)
    assert_error(await http.get("/image/123e4567-e89b-12d3-a456-426614174000.jpg"), 404)
    assert_violation(await http.get(f"/image/{image_id}.jpg", params={"crop": "maybe"}), "crop")
    assert_violation(await http.get(f"/image/{image_id}.jpg", params={"w": "wide"}), "w")


async def test_private_images_are_served_to_their_owner_only(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    image_id = await uploaded(http, jwt(account))
    await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": False})
    assert_error(await http.get(f"/image/{image_id}.jpg"), 404)
    assert (await http.get(f"/image/{image_id}.jpg", headers=jwt(account))).status_code == 200


async def test_head_answers_the_serving_headers_without_a_body_or_a_view(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    image_id = await uploaded(http, jwt(account), img.make_jpeg(200, 100))
    await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": True})
    assert (await http.head(f"/image/{image_id}.jpg")).headers["content-type"] == "image/jpeg"
    assert (await http.head(f"/image/{image_id}.jpg", params={"w": 50})).status_code == 200
    detail = f"/api/image/{image_id}/detail"
    assert (await http.get(detail, headers=jwt(account))).json()["views"] == 0
    for url in (f"/image/{image_id}.jpg", f"/image/{image_id}.webp?w=50&crop=true", f"/api/image/{image_id}.png"):
        await assert_head_matches_get(http, url)
    assert (await http.get(detail, headers=jwt(account))).json()["views"] == 3  # the three GETs only
    await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": False})
    missing = await http.head(f"/image/{image_id}.jpg")
    assert (missing.status_code, missing.content) == (404, b"")
    await assert_head_matches_get(http, f"/image/{image_id}.jpg", headers=jwt(account))
    assert (await http.head(f"/image/{image_id}.nope", headers=jwt(account))).status_code == 404


# --- GET /api/image/{id}/detail ------------------------------------------------------------------------------


async def test_detail_field_for_field(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    image_id = await uploaded(http, jwt(account), img.make_png(360, 210), content_type="image/png")
    response = await http.get(f"/api/image/{image_id}/detail", headers=jwt(account))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "id", "fileName", "description", "isPublic", "createdAt", "updatedAt", "views", "size", "mimeType",
        "width", "height", "supportsResize", "url",
    }  # fmt: skip
    assert body["id"] == image_id
    assert body["fileName"] == f"{image_id}.png"
    assert body["description"] == ""
    assert isinstance(body["isPublic"], bool)
    datetime.fromisoformat(body["createdAt"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", body["createdAt"])
    assert body["updatedAt"] is None
    assert body["views"] == 0
    assert isinstance(body["size"], int)
    assert body["size"] > 0
    assert body["mimeType"] == "image/png"
    assert (body["width"], body["height"]) == (360, 210)
    assert body["supportsResize"] is True
    assert body["url"] == f"/image/{image_id}.png"
    assert (await http.get(body["url"], headers=jwt(account))).status_code == 200
    async with runtime.db.writer() as session:  # uploaded an hour ago
        earlier = datetime.fromisoformat(body["createdAt"]) - timedelta(hours=1)
        await session.execute(update(Image).where(Image.id == image_id).values(created_at=earlier, updated_at=earlier))
    await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"description": "x"})
    edited = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(account))).json()
    datetime.fromisoformat(edited["updatedAt"])


async def test_detail_of_others_private_images_is_404(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, other = await make_account(runtime), await make_account(runtime)
    image_id = await uploaded(http, jwt(owner))
    await http.patch(f"/api/image/{image_id}", headers=jwt(owner), json={"isPublic": False})
    assert_error(await http.get(f"/api/image/{image_id}/detail", headers=jwt(other)), 404)
    assert_error(await http.get(f"/api/image/{image_id}/detail"), 401)
    assert_error(await http.get("/api/image/not-an-id/detail", headers=jwt(owner)), 404)


# --- GET /api/images/{page} ----------------------------------------------------------------------------------


def assert_listed(item: dict[str, Any], *, owner: Account | None) -> None:
    assert set(item) == {"id", "owner", "attributes", "metadata"}
    if owner is None:
        assert item["owner"] is None
    else:
        assert item["owner"] == {"id": owner.id, "email": owner.email, "displayName": owner.username}
    attributes = item["attributes"]
    assert set(attributes) == {"fileName", "description", "isPublic", "createdAt", "views"}
    assert set(attributes["createdAt"]) == {"formattedDate", "timestamp"}
    assert isinstance(attributes["createdAt"]["timestamp"], int)
    created = datetime.fromtimestamp(attributes["createdAt"]["timestamp"], UTC)
    assert attributes["createdAt"]["formattedDate"] == f"{created:%b} {created.day}, {created.year}"
    assert set(item["metadata"]) == {"size", "mimeType", "width", "height"}


async def test_listing_public_images_with_meta_and_pages(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice, bob = await make_account(runtime), await make_account(runtime)
    ids = [await uploaded(http, jwt(alice), img.make_jpeg(40 + n, 30), filename=f"a{n}.jpg") for n in range(3)]
    for image_id in ids:
        await http.patch(f"/api/image/{image_id}", headers=jwt(alice), json={"isPublic": True, "description": "sea"})
    hidden = await uploaded(http, jwt(alice))
    await http.patch(f"/api/image/{hidden}", headers=jwt(alice), json={"isPublic": False})

    response = await http.get("/api/images/1", headers=jwt(bob))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"meta", "data"}
    assert body["meta"] == {"size": 10, "page": 1, "total": 3, "nextCursor": None, "prevCursor": None}
    assert [item["id"] for item in body["data"]] == ids[::-1]
    for item in body["data"]:
        assert_listed(item, owner=alice)
    first = body["data"][0]
    assert first["attributes"]["fileName"] == "a2.jpg"
    assert first["attributes"]["description"] == "sea"
    assert first["attributes"]["isPublic"] is True
    assert first["attributes"]["views"] == 0
    assert first["metadata"]["mimeType"] == "image/jpeg"
    assert (first["metadata"]["width"], first["metadata"]["height"]) == (42, 30)

    page = (await http.get("/api/images/2", headers=jwt(bob), params={"limit": 2})).json()
    assert page["meta"] | {"prevCursor": None} == {
        "size": 2,
        "page": 2,
        "total": 3,
        "nextCursor": None,
        "prevCursor": None,
    }
    assert page["meta"]["prevCursor"]  # page 2 has one before it
    assert [item["id"] for item in page["data"]] == [ids[0]]
    start = (await http.get("/api/images/1", headers=jwt(bob), params={"limit": 2})).json()
    assert start["meta"]["nextCursor"]
    after = await http.get(
        "/api/images/1", headers=jwt(bob), params={"limit": 2, "cursor": start["meta"]["nextCursor"]}
    )
    assert [item["id"] for item in after.json()["data"]] == [ids[0]]
    assert after.json()["meta"]["total"] is None
    assert after.json()["meta"]["nextCursor"] is None


async def test_listing_search_and_order(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    cat = await uploaded(http, jwt(account), filename="cat.jpg")
    dog = await uploaded(http, jwt(account), filename="dog.jpg")
    for image_id, text in ((cat, "a sleepy cat"), (dog, "a good dog")):
        await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": True, "description": text})

    async def ids(**params: Any) -> list[str]:
        response = await http.get("/api/images/1", headers=jwt(account), params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert await ids(searchTerm="SLEEPY") == [cat]
    assert await ids(searchTerm="dog", searchBy="fileName") == [dog]
    assert await ids(searchTerm="good", searchBy="description") == [dog]
    assert await ids(orderBy="attributes.createdAt") == [dog, cat]
    assert await ids(orderBy="attributes.updatedAt") == [dog, cat]
    listing = "/api/images/1"
    assert_violation(await http.get(listing, headers=jwt(account), params={"orderBy": "size"}), "orderBy")
    assert_violation(await http.get(listing, headers=jwt(account), params={"searchBy": "x"}), "searchBy")
    assert_violation(await http.get(listing, headers=jwt(account), params={"limit": 0}), "limit")
    assert_violation(await http.get(listing, headers=jwt(account), params={"cursor": "@@"}), "cursor")
    assert_violation(await http.get("/api/images/0", headers=jwt(account)), "page")
    assert_error(await http.get(listing), 401)


async def public_images(http: httpx.AsyncClient, account: Account, count: int) -> list[str]:
    """`count` public images of `account`, oldest first (made public in that order, so both orders agree)."""
    ids = []
    for n in range(count):
        image_id = await uploaded(http, jwt(account), img.make_jpeg(20 + n, 20))
        response = await http.patch(f"/api/image/{image_id}", headers=jwt(account), json={"isPublic": True})
        assert response.status_code == 204
        ids.append(image_id)
    return ids


async def listed(http: httpx.AsyncClient, account: Account, **params: Any) -> tuple[list[str], dict[str, Any]]:
    response = await http.get("/api/images/1", headers=jwt(account), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["data"]], body["meta"]


async def test_order_by_updated_at_puts_changed_images_first(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    a, b, c, d = await public_images(http, account, 4)
    created = [d, c, b, a]
    assert (await listed(http, account, orderBy="attributes.updatedAt"))[0] == created
    assert (await listed(http, account))[0] == created  # the document's default is attributes.updatedAt

    await http.patch(f"/api/image/{a}", headers=jwt(account), json={"description": "changed"})
    assert (await listed(http, account))[0] == [a, d, c, b]
    await http.patch(f"/api/image/{b}", headers=jwt(account), json={"isPublic": False})
    await http.patch(f"/api/image/{b}", headers=jwt(account), json={"isPublic": True})
    assert (await listed(http, account))[0] == [b, a, d, c]
    tagged = await http.patch(f"/v2/images/{c}", headers=jwt(account), json={"tags": ["sea"]})
    assert tagged.status_code == 200, tagged.text
    assert (await listed(http, account))[0] == [c, b, a, d]
    # Neither a PATCH that changes nothing nor a view is a change.
    assert (await http.patch(f"/api/image/{d}", headers=jwt(account), json={"isPublic": True})).status_code == 204
    assert (await http.patch(f"/api/image/{d}", headers=jwt(account), json={})).status_code == 204
    assert (await http.get(f"/image/{d}.jpg")).status_code == 200
    await runtime.usage.flush()
    assert (await listed(http, account))[0] == [c, b, a, d]
    assert (await listed(http, account, orderBy="attributes.createdAt"))[0] == created


async def walk(
    http: httpx.AsyncClient, account: Account, order: str, *, limit: int, between: Any = None
) -> list[list[str]]:
    """Every page forwards through nextCursor; `between(pages_so_far)` runs after each page."""
    pages: list[list[str]] = []
    params: dict[str, Any] = {"orderBy": order, "limit": limit}
    while True:
        ids, meta = await listed(http, account, **params)
        assert (meta["prevCursor"] is None) == (not pages)
        pages.append(ids)
        if between is not None:
            await between(pages)
        if meta["nextCursor"] is None:
            return pages
        params["cursor"] = meta["nextCursor"]


@pytest.mark.parametrize("order", ["attributes.createdAt", "attributes.updatedAt"])
async def test_cursor_paging_while_another_image_is_updated(
    http: httpx.AsyncClient, runtime: Runtime, order: str
) -> None:
    account = await make_account(runtime)
    ids = await public_images(http, account, 7)

    async def change_one(pages: list[list[str]]) -> None:
        if len(pages) == 1:  # an image already listed changes: by updatedAt it moves to the top, behind the reader
            await http.patch(f"/api/image/{pages[0][1]}", headers=jwt(account), json={"description": "new"})

    pages = await walk(http, account, order, limit=3, between=change_one)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == ids[
        ::-1
    ]  # each image once, no gap, in the order the walk started with
    changed = ids[-2]
    again = [i for page in await walk(http, account, order, limit=3) for i in page]
    assert again == (
        ids[::-1] if order == "attributes.createdAt" else [changed, *[i for i in ids[::-1] if i != changed]]
    )


@pytest.mark.parametrize("order", ["attributes.createdAt", "attributes.updatedAt"])
async def test_prev_cursor_pages_back_through_the_same_pages(
    http: httpx.AsyncClient, runtime: Runtime, order: str
) -> None:
    account = await make_account(runtime)
    await public_images(http, account, 7)
    forward = await walk(http, account, order, limit=3)
    assert [len(page) for page in forward] == [3, 3, 1]
    meta = (await listed(http, account, orderBy=order, limit=3))[1]
    ids, meta = await listed(http, account, orderBy=order, limit=3, cursor=meta["nextCursor"])
    ids, meta = await listed(http, account, orderBy=order, limit=3, cursor=meta["nextCursor"])
    assert ids == forward[2]
    assert meta["nextCursor"] is None
    backward = [ids]
    while meta["prevCursor"] is not None:
        ids, meta = await listed(http, account, orderBy=order, limit=3, cursor=meta["prevCursor"])
        assert meta["nextCursor"] is not None
        backward.append(ids)
    assert backward[::-1] == forward
    assert (await listed(http, account, orderBy=order, limit=3, cursor=meta["nextCursor"]))[0] == forward[1]
    # page mode: page 2's prevCursor is page 1
    second = (await http.get("/api/images/2", headers=jwt(account), params={"orderBy": order, "limit": 3})).json()
    assert [item["id"] for item in second["data"]] == forward[1]
    assert (await listed(http, account, orderBy=order, limit=3, cursor=second["meta"]["prevCursor"]))[0] == forward[0]


async def test_a_cursor_of_one_order_is_refused_by_the_other(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    await public_images(http, account, 3)
    for order, other in (
        ("attributes.createdAt", "attributes.updatedAt"),
        ("attributes.updatedAt", "attributes.createdAt"),
    ):
        meta = (await listed(http, account, orderBy=order, limit=1))[1]
        ahead = await listed(http, account, orderBy=order, limit=1, cursor=meta["nextCursor"])
        for cursor in (meta["nextCursor"], ahead[1]["prevCursor"]):
            response = await http.get(
                "/api/images/1", headers=jwt(account), params={"orderBy": other, "limit": 1, "cursor": cursor}
            )
            assert "ordered by" in assert_violation(response, "cursor")


# --- GET /api/images?uuid[]=... ------------------------------------------------------------------------------


async def test_images_by_uuid(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, other = await make_account(runtime), await make_account(runtime)
    first, second = await uploaded(http, jwt(owner)), await uploaded(http, jwt(owner))
    await http.patch(f"/api/image/{second}", headers=jwt(owner), json={"isPublic": False})
    response = await http.get(
        "/api/images", headers=jwt(owner), params=[("uuid[]", second), ("uuid[]", first), ("uuid[]", "nope")]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    assert [item["id"] for item in body] == [second, first]
    for item in body:
        assert_listed(item, owner=owner)
    seen = await http.get("/api/images", headers=jwt(other), params=[("uuid[]", second), ("uuid[]", first)])
    assert [item["id"] for item in seen.json()] == ([first] if await _public_by_default(http, owner, first) else [])
    assert_error(await http.get("/api/images", params=[("uuid[]", first)]), 401)


async def _public_by_default(http: httpx.AsyncClient, owner: Account, image_id: str) -> bool:
    detail = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(owner))).json()
    public: bool = detail["isPublic"]
    return public


# --- GET /api/images/history/{page} --------------------------------------------------------------------------


async def test_history_lists_own_images_with_owner_and_meta(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, other = await make_account(runtime), await make_account(runtime)
    mine = [await uploaded(http, jwt(owner)) for _ in range(13)]
    await uploaded(http, jwt(other))
    await http.patch(f"/api/image/{mine[0]}", headers=jwt(owner), json={"isPublic": False})
    response = await http.get("/api/images/history/1", headers=jwt(owner))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {"size": 12, "page": 1, "total": 13}
    assert [item["id"] for item in body["data"]] == mine[:0:-1]
    item = body["data"][0]
    assert list(item) == ["id", "attributes", "metadata", "owner"]
    assert item["owner"] == {
        "id": owner.id, "email": owner.email, "username": owner.username, "displayName": owner.username
    }  # fmt: skip
    created = item["attributes"]["createdAt"]
    assert created["formattedDate"] == datetime.fromtimestamp(created["timestamp"], UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert item["attributes"]["fileName"] == "photo.jpg"
    second = (await http.get("/api/images/history/2", headers=jwt(owner))).json()
    assert [item["id"] for item in second["data"]] == [mine[0]]
    assert second["data"][0]["attributes"]["isPublic"] is False
    assert_error(await http.get("/api/images/history/1"), 401)


# --- PATCH /api/image/{id} -----------------------------------------------------------------------------------


async def test_patch_changes_description_and_visibility(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, other = await make_account(runtime), await make_account(runtime)
    image_id = await uploaded(http, jwt(owner))
    response = await http.patch(
        f"/api/image/{image_id}", headers=jwt(owner), json={"description": "Updated description", "isPublic": False}
    )
    assert response.status_code == 204
    assert response.content == b""
    detail = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(owner))).json()
    assert (detail["description"], detail["isPublic"]) == ("Updated description", False)
    assert (await http.patch(f"/api/image/{image_id}", headers=jwt(owner), json={"isPublic": True})).status_code == 204
    detail = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(owner))).json()
    assert (detail["description"], detail["isPublic"]) == ("Updated description", True)
    assert_error(await http.patch(f"/api/image/{image_id}", headers=jwt(other), json={"isPublic": False}), 403)
    assert_violation(await http.patch(f"/api/image/{image_id}", headers=jwt(owner), json={"isPublic": "x"}), "isPublic")
    assert_error(await http.patch(f"/api/image/{image_id}", json={"isPublic": True}), 401)


# --- DELETE /api/image/{id} ----------------------------------------------------------------------------------


async def test_delete_removes_image_and_file(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, other = await make_account(runtime), await make_account(runtime)
    image_id = await uploaded(http, jwt(owner))
    assert_error(await http.request("DELETE", f"/api/image/{image_id}", headers=jwt(other)), 403)
    response = await http.request(
        "DELETE", f"/api/image/{image_id}", headers=jwt(owner), json={"preserveOnDisk": False}
    )
    assert response.status_code == 204
    assert stored_files(runtime.settings) == []
    assert_error(await http.get(f"/api/image/{image_id}/detail", headers=jwt(owner)), 404)
    assert_error(await http.get(f"/image/{image_id}.jpg"), 404)
    assert_error(await http.delete(f"/api/image/{image_id}", headers=jwt(owner)), 404)


async def test_owner_deletes_with_preserve_on_disk_and_the_file_is_kept(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The document lets the owner send `preserveOnDisk: true`: 204, the image is gone from every API, its file
    stays (for the operator's retention, `storage.preserved_retention_days`)."""
    owner, other = await make_account(runtime), await make_account(runtime)
    image_id = await uploaded(http, jwt(owner))
    elsewhere = [f"/api/image/{image_id}/detail", f"/image/{image_id}.jpg", f"/v2/images/{image_id}?info=true"]
    elsewhere.append(f"/uploadkey/api/images/{image_id}")
    for url in elsewhere:
        assert (await http.get(url, headers=jwt(owner))).status_code == 200, url
    body = {"preserveOnDisk": True}
    assert_error(await http.request("DELETE", f"/api/image/{image_id}", headers=jwt(other), json=body), 403)
    kept = await http.request("DELETE", f"/api/image/{image_id}", headers=jwt(owner), json=body)
    assert kept.status_code == 204
    for url in elsewhere:
        assert (await http.get(url, headers=jwt(owner))).status_code == 404, url
    assert [path for path in stored_files(runtime.settings) if path.parent.name != "tmp"], "the file is kept"
    admin = await make_account(runtime, role=Role.ADMIN)
    by_admin = await uploaded(http, jwt(owner), img.make_jpeg(10, 10))
    body_admin = {"preserveOnDisk": True}
    assert (
        await http.request("DELETE", f"/api/image/{by_admin}", headers=jwt(admin), json=body_admin)
    ).status_code == 204
    other_image = await uploaded(http, jwt(owner), img.make_jpeg(12, 12))
    assert (await http.delete(f"/api/image/{other_image}", headers=jwt(owner))).status_code == 204


# --- Errors: HTTP 422 validation errors ----------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"slink": {"max_file_bytes": 1024 * 1024}}}])
async def test_file_too_large_is_422_with_sizes_in_mb(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    data = bytes(2_244_000)  # 2.14 MB
    message = assert_violation(await upload(http, jwt(account), data), "image")
    assert message == "The file is too large (2.14 MB). Allowed maximum size is 1 MB."  # the file's own size
    assert stored_files(runtime.settings) == []


def form_body(data: bytes, boundary: str = "pinholeboundary") -> tuple[bytes, str]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"slink": {"max_file_bytes": 1024 * 1024}}}])
@pytest.mark.parametrize("content_length", [None, "600", "52428800"], ids=["chunked", "too-small", "too-large"])
async def test_file_too_large_names_the_size_of_the_file_read(
    http: httpx.AsyncClient, runtime: Runtime, content_length: str | None
) -> None:
    """Without a Content-Length (chunked) or with a wrong one, the size is what was counted while reading."""
    account = await make_account(runtime)
    body, content_type = form_body(bytes(3_460_000))  # 3.30 MB of file, ~200 bytes of form around it

    async def chunks() -> Any:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    headers = jwt(account) | {"Content-Type": content_type}
    if content_length is None:
        response = await http.post("/api/upload", headers=headers, content=chunks())
        assert "content-length" not in response.request.headers
    else:
        response = await http.post("/api/upload", headers=headers | {"Content-Length": content_length}, content=body)
        assert response.request.headers["content-length"] == content_length
    message = assert_violation(response, "image")
    assert message == "The file is too large (3.3 MB). Allowed maximum size is 1 MB."
    assert stored_files(runtime.settings) == []


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"slink": {"max_file_bytes": 1024 * 1024}}}])
async def test_a_file_far_over_the_limit_is_not_read_to_its_end(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    response = await upload(http, jwt(account), bytes(5 * 1024 * 1024))
    message = assert_violation(response, "image")
    assert message == "The file is too large (more than 4 MB). Allowed maximum size is 1 MB."


async def test_invalid_mime_type_is_422_listing_the_allowed_ones(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    pdf = b"%PDF-1.4\n" + bytes(2000)
    response = await upload(http, jwt(account), pdf, content_type="application/pdf", filename="doc.pdf")
    assert assert_violation(response, "image") == (
        'The mime type of the file is invalid ("application/pdf"). '
        'Allowed mime types are "image/jpeg", "image/png", "image/webp", "image/gif".'
    )
    assert stored_files(runtime.settings) == []
    avif = await upload(http, jwt(account), img.make_avif(8, 8), content_type="image/avif")
    assert 'invalid ("image/avif")' in assert_violation(avif, "image")
    unnamed = await upload(http, jwt(account), bytes(100), content_type="")
    assert '("application/octet-stream")' in assert_violation(unnamed, "image")


async def test_each_accepted_type_uploads(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    for data, mime in (
        (img.make_jpeg(8, 8), "image/jpeg"),
        (img.make_png(8, 8), "image/png"),
        (img.make_webp(8, 8), "image/webp"),
        (img.make_gif(8, 8), "image/gif"),
    ):
        image_id = await uploaded(http, jwt(account), data, content_type=mime)
        detail = (await http.get(f"/api/image/{image_id}/detail", headers=jwt(account))).json()
        assert detail["mimeType"] == mime


async def test_missing_or_corrupt_image_is_422(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    assert_violation(await upload(http, jwt(account), field="file"), "image")
    assert_violation(await upload(http, jwt(account), img.make_jpeg(50, 50)[:300]), "image")
    assert stored_files(runtime.settings) == []


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"slink.upload": "1/minute"}}}])
async def test_rate_limits_answer_429_in_the_shape(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    await uploaded(http, jwt(account))
    response = await upload(http, jwt(account))
    assert assert_error(response, 429)["violations"] == []
    assert "retry-after" in response.headers


async def test_the_mount_defaults(runtime: Runtime) -> None:
    mount = runtime.settings.dialects.slink
    assert (mount.enabled, mount.prefix, mount.max_file_bytes) == (True, "", 10 * 1024 * 1024)


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"slink": {"prefix": "/slink"}}}])
async def test_mounted_at_a_prefix(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    key = await personal_key_headers(runtime, account)
    body = (await upload(http, key, path="/slink/api/external/upload")).json()
    assert body["url"].startswith("/slink/api/image/")
    assert (await http.get(body["url"])).status_code == 200
    assert (await http.get(body["thumbnailUrl"])).status_code == 200
    assert (await upload(http, jwt(account))).status_code == 404


# --- Signed transform URLs (pinhole's setting; the document has none) ------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous", "keys": ["k1:" + "o" * 32]}}])
async def test_with_signed_transforms_resizing_needs_a_signature(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    key = await personal_key_headers(runtime, account)
    body = (await upload(http, key, img.make_jpeg(800, 600), path="/api/external/upload")).json()
    image_id = body["id"]
    assert (await http.get(f"/image/{image_id}.jpg")).status_code == 200  # the original needs no signature
    assert (await http.get(body["thumbnailUrl"])).status_code == 200  # one fixed variant per image
    assert assert_error(await http.get(f"/image/{image_id}.jpg", params={"w": 300}), 403)["violations"] == []
    options = make_transform(width=300, limits=runtime.output_limits)
    signed = await http.get(f"/image/{image_id}.jpg", params={"w": 300, **runtime.signer.sign(image_id, options)})
    assert signed.status_code == 200, signed.text
    assert size_of(signed.content) == (300, 225)
    owned = await http.get(f"/image/{image_id}.jpg", params={"w": 300}, headers=jwt(account))
    assert owned.status_code == 200
