"""The uploadkey API document walked top to bottom through the real app:
sign-in with a CSRF token, then every endpoint, field and documented error, in the `{"error": "..."}` shape.

Mounted at its default prefix `/uploadkey`; the document's paths follow it.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
import pyvips

from pinhole.runtime import Runtime
from pinhole.services import keys
from pinhole.settings import Settings
from tests.api.signin import PASSWORD, make_user, session_cookie, with_cookie
from tests.api.v2helpers import assert_head_matches_get, stored_files
from tests.support.images import make_jpeg, make_png

pytestmark = pytest.mark.anyio

API = "/uploadkey/api"
IMAGE_FIELDS = {
    "id": str,
    "uuid": str,
    "url": str,
    "proxyUrl": str,
    "filename": str,
    "extension": str,
    "mimeType": str,
    "size": int,
    "width": int,
    "height": int,
    "private": bool,
    "views": int,
    "createdAt": str,
}


class Browser:
    """A signed-in browser: its session cookie and CSRF token, sent by hand (the http client keeps no cookies)."""

    def __init__(self, cookie: str, csrf: str) -> None:
        self.cookie = cookie
        self.csrf = csrf

    def headers(self, *, csrf: bool = True) -> dict[str, str]:
        return with_cookie(self.cookie, self.csrf if csrf else None)


async def sign_in(http: httpx.AsyncClient, runtime: Runtime, name: str = "alice") -> Browser:
    await make_user(runtime, name)
    response = await http.post(f"{API}/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return Browser(session_cookie(response).value, response.json()["csrfToken"])


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes | None = None,
    *,
    fields: dict[str, str] | None = None,
    expect: int = 200,
) -> dict[str, Any]:
    files = {"file": ("photo.jpg", data if data is not None else make_jpeg(40, 30), "image/jpeg")}
    response = await http.post(f"{API}/upload", headers=headers, files=files, data=fields or {})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload_key(runtime: Runtime, http: httpx.AsyncClient, browser: Browser) -> dict[str, str]:
    me = (await http.get(f"{API}/session", headers=browser.headers())).json()["user"]
    new = await keys.create_upload_key(runtime.db, secret=runtime.secret, user_id=me["id"])
    return {"X-Upload-Key": new.key}


def assert_error(response: httpx.Response, status: int, starts: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str), body
    assert body["error"], body
    assert body["error"].startswith(starts), body


def served(response: httpx.Response, fmt: str) -> pyvips.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"image/{fmt}"
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert image.get("vips-loader").startswith(f"{'jpeg' if fmt == 'jpeg' else fmt}load")
    return image


# --- Sessions: login, refresh (and reading the session back), logout ---


async def test_login_sets_the_cookie_and_returns_a_csrf_token(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "alice")
    response = await http.post(f"{API}/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["csrfToken"], str)
    assert len(body["csrfToken"]) >= 32
    assert isinstance(body["expiresAt"], str)
    assert body["user"]["username"] == "alice"
    cookie = session_cookie(response)
    assert cookie["httponly"]
    assert cookie["path"] == "/"
    assert cookie["samesite"].lower() == "lax"
    assert response.headers["cache-control"] == "no-store"
    # email and login work as the identity too
    for field in ("email", "login"):
        value = "alice@example.com" if field == "email" else "alice"
        assert (await http.post(f"{API}/login", json={field: value, "password": PASSWORD})).status_code == 200


async def test_login_errors(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "alice")
    assert_error(await http.post(f"{API}/login", json={"username": "alice", "password": "wrong one"}), 401)
    assert_error(await http.post(f"{API}/login", json={"username": "nobody", "password": PASSWORD}), 401)
    assert_error(await http.post(f"{API}/login", json={"username": "alice"}), 400, "Invalid request")
    assert_error(await http.post(f"{API}/login", content=b"not json"), 400, "Invalid request")


async def test_refresh_rotates_cookie_and_csrf_token(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    read = await http.get(f"{API}/session", headers=browser.headers(csrf=False))
    assert read.status_code == 200
    assert read.json()["csrfToken"] == browser.csrf
    response = await http.post(f"{API}/refresh", headers=browser.headers())
    assert response.status_code == 200, response.text
    http.cookies.clear()
    fresh = Browser(session_cookie(response).value, response.json()["csrfToken"])
    assert fresh.cookie != browser.cookie
    assert fresh.csrf != browser.csrf
    assert response.json()["user"]["username"] == "alice"
    # The new pair works; the old cookie is used up; the old token does not go with the new cookie.
    await upload(http, fresh.headers())
    assert_error(await http.get(f"{API}/list", headers=browser.headers()), 401)
    assert_error(await http.post(f"{API}/upload", headers=with_cookie(fresh.cookie, browser.csrf)), 403)


async def test_refresh_errors(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    assert_error(await http.post(f"{API}/refresh", headers=browser.headers(csrf=False)), 403, "Invalid CSRF token")
    assert_error(await http.post(f"{API}/refresh", headers=with_cookie(browser.cookie, "forged")), 403)
    assert_error(await http.post(f"{API}/refresh"), 401)
    assert_error(await http.get(f"{API}/session"), 401)
    # A refused refresh changed nothing: the session still works.
    assert (await http.get(f"{API}/list", headers=browser.headers())).status_code == 200


async def test_logout_ends_the_session_and_clears_the_cookie(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    assert_error(await http.post(f"{API}/logout", headers=browser.headers(csrf=False)), 403)
    response = await http.post(f"{API}/logout", headers=browser.headers())
    assert response.status_code == 200
    assert response.json() == {"message": "Logged out"}
    assert session_cookie(response)["max-age"] == "0"
    assert_error(await http.get(f"{API}/list", headers=browser.headers()), 401)
    # Without a session, logging out just clears the cookie.
    assert (await http.post(f"{API}/logout")).status_code == 200


async def test_one_session_for_v2_and_uploadkey(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    assert (await http.get("/v2/auth/session", headers=browser.headers())).json()["csrfToken"] == browser.csrf


# --- POST /api/upload ---


async def test_upload_with_an_upload_key(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    key = await upload_key(runtime, http, browser)
    body = await upload(http, key, make_jpeg(40, 30))
    assert {name: type(body[name]) for name in IMAGE_FIELDS} == IMAGE_FIELDS
    assert body["key"] is None
    assert body["private"] is False
    assert body["id"] == body["uuid"]
    assert body["url"] == f"http://testserver/uploadkey/{body['uuid']}.jpg"
    assert body["proxyUrl"] == f"http://testserver/uploadkey/api/proxy/{body['uuid']}.jpg"
    assert (body["filename"], body["extension"], body["mimeType"]) == ("photo.jpg", "jpg", "image/jpeg")
    assert (body["width"], body["height"], body["views"]) == (40, 30, 0)
    image = served(await http.get(body["url"]), "jpeg")
    assert (image.width, image.height) == (40, 30)
    # Also as a bearer token; no CSRF token is needed without a cookie.
    bearer = {"Authorization": f"Bearer {key['X-Upload-Key']}"}
    assert (await upload(http, bearer))["private"] is False


async def test_upload_with_the_session_needs_the_csrf_token(
    http: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    browser = await sign_in(http, runtime)
    before = stored_files(settings)
    assert_error(
        await http.post(
            f"{API}/upload", headers=browser.headers(csrf=False), files={"file": ("a.jpg", make_jpeg(8, 8))}
        ),
        403,
        "Invalid CSRF token",
    )
    assert_error(
        await http.post(
            f"{API}/upload", headers=with_cookie(browser.cookie, "x" * 43), files={"file": ("a.jpg", make_jpeg(8, 8))}
        ),
        403,
    )
    assert stored_files(settings) == before
    body = await upload(http, browser.headers())
    assert body["private"] is False


async def test_upload_not_authenticated(http: httpx.AsyncClient, runtime: Runtime) -> None:
    files = {"file": ("a.jpg", make_jpeg(8, 8), "image/jpeg")}
    assert_error(await http.post(f"{API}/upload", files=files), 401, "Not authenticated")
    assert_error(await http.post(f"{API}/upload", files=files, headers={"X-Upload-Key": "uk_not-a-key"}), 401)
    # A key that was revoked no longer uploads.
    browser = await sign_in(http, runtime)
    me = (await http.get(f"{API}/session", headers=browser.headers())).json()["user"]
    new = await keys.create_upload_key(runtime.db, secret=runtime.secret, user_id=me["id"])
    await keys.revoke_upload_key(runtime.db, key_id=new.row.id)
    assert_error(await http.post(f"{API}/upload", files=files, headers={"X-Upload-Key": new.key}), 401)


async def test_upload_invalid_request(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    before = stored_files(settings)
    no_file = await http.post(f"{API}/upload", headers=key, files={"image": ("a.jpg", make_jpeg(8, 8))})
    assert_error(no_file, 400, "Invalid request")
    assert "file" in no_file.json()["error"]
    assert_error(await http.post(f"{API}/upload", headers=key, json={"file": "x"}), 400, "Invalid request")
    bad_flag = await http.post(
        f"{API}/upload", headers=key, files={"file": ("a.jpg", make_jpeg(8, 8))}, data={"private": "perhaps"}
    )
    assert_error(bad_flag, 400, "Invalid request")
    assert stored_files(settings) == before


async def test_upload_file_type_not_allowed(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    before = stored_files(settings)
    response = await http.post(f"{API}/upload", headers=key, files={"file": ("a.jpg", b"plain text, no image")})
    assert_error(response, 400, "File type not allowed")
    assert stored_files(settings) == before


@pytest.mark.parametrize("settings_overrides", [{"uploads": {"max_file_bytes": 4096}}])
async def test_upload_file_too_large(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    before = stored_files(settings)
    big = make_png(300, 300)
    assert len(big) > 4096
    assert_error(await http.post(f"{API}/upload", headers=key, files={"file": ("a.png", big)}), 400, "File too large")
    assert stored_files(settings) == before


@pytest.mark.parametrize("settings_overrides", [{"quotas": {"user_images": 1}}])
async def test_upload_storage_limit_reached(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    await upload(http, key, make_jpeg(8, 8))
    before = stored_files(settings)
    response = await http.post(f"{API}/upload", headers=key, files={"file": ("b.jpg", make_jpeg(9, 9))})
    assert_error(response, 400, "Storage limit reached")
    assert stored_files(settings) == before


# --- private images and GET /{uuid}.{ext} ---


async def test_private_upload_returns_its_key(http: httpx.AsyncClient, runtime: Runtime) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    body = await upload(http, key, fields={"private": "true"})
    assert body["private"] is True
    assert isinstance(body["key"], str)
    assert body["url"] == f"http://testserver/uploadkey/{body['uuid']}.jpg?key={body['key']}"
    assert base64.urlsafe_b64decode(body["key"] + "=" * (-len(body["key"]) % 4))  # base64 (URL-safe)
    path = f"/uploadkey/{body['uuid']}.jpg"
    served(await http.get(path, params={"key": body["key"]}), "jpeg")
    # Standard base64 with padding names the same key.
    standard = base64.b64encode(base64.urlsafe_b64decode(body["key"] + "=")).decode()
    served(await http.get(path, params={"key": standard}), "jpeg")
    assert_error(await http.get(path), 404, "Image not found")
    assert_error(await http.get(path, params={"key": "bm90IHRoZSBrZXk="}), 404)
    assert_error(await http.get(path, params={"key": "%%%"}), 404)
    other = await upload(http, key, make_jpeg(12, 12), fields={"private": "true"})
    assert other["key"] != body["key"]
    assert_error(await http.get(path, params={"key": other["key"]}), 404)


async def test_public_images_are_served_to_anyone_in_the_format_of_the_extension(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    body = await upload(http, key, make_jpeg(40, 30))
    for ext, fmt in (("jpg", "jpeg"), ("jpeg", "jpeg"), ("png", "png"), ("webp", "webp"), ("gif", "gif")):
        image = served(await http.get(f"/uploadkey/{body['uuid']}.{ext}"), fmt)
        assert (image.width, image.height) == (40, 30)
    assert "public" in (await http.get(f"/uploadkey/{body['uuid']}.jpg")).headers["cache-control"]


async def test_serve_not_found(http: httpx.AsyncClient, runtime: Runtime) -> None:
    key = await upload_key(runtime, http, await sign_in(http, runtime))
    body = await upload(http, key)
    assert_error(await http.get(f"/uploadkey/{body['uuid']}.exe"), 404, "Image not found")
    assert_error(await http.get("/uploadkey/00000000-0000-4000-8000-000000000000.jpg"), 404)
    assert_error(await http.get("/uploadkey/not-a-uuid.jpg"), 404)


async def test_the_owner_sees_its_private_image_without_the_key(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    body = await upload(http, browser.headers(), fields={"private": "true"})
    served(await http.get(f"/uploadkey/{body['uuid']}.png", headers=browser.headers(csrf=False)), "png")
    other = await sign_in(http, runtime, "bob")
    assert_error(await http.get(f"/uploadkey/{body['uuid']}.jpg", headers=other.headers(csrf=False)), 404)


# --- GET /api/list, GET /api/images/{id}, PATCH /api/images/{id} ---


async def test_list_shows_the_callers_images(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    bob = await sign_in(http, runtime, "bob")
    first = await upload(http, alice.headers(), make_jpeg(8, 8))
    second = await upload(http, alice.headers(), make_jpeg(9, 9), fields={"private": "true"})
    await upload(http, bob.headers(), make_jpeg(10, 10))
    response = await http.get(f"{API}/list", headers=alice.headers(csrf=False))
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["limit"]) == (2, 1, 100)
    assert [item["uuid"] for item in body["data"]] == [second["uuid"], first["uuid"]]
    for item in body["data"]:
        assert {name: type(item[name]) for name in IMAGE_FIELDS} == IMAGE_FIELDS
    assert body["data"][0]["key"] == second["key"]
    assert body["data"][1]["key"] is None
    paged = (await http.get(f"{API}/list", params={"limit": 1, "page": 2}, headers=alice.headers())).json()
    assert [item["uuid"] for item in paged["data"]] == [first["uuid"]]
    assert_error(await http.get(f"{API}/list", params={"limit": 0}, headers=alice.headers()), 400)


async def test_list_not_authenticated(http: httpx.AsyncClient, runtime: Runtime) -> None:
    browser = await sign_in(http, runtime)
    assert_error(await http.get(f"{API}/list"), 401, "Not authenticated")
    assert_error(await http.get(f"{API}/list", headers=await upload_key(runtime, http, browser)), 401)
    assert_error(await http.get(f"{API}/list", headers=with_cookie("bs_stale")), 401)


async def test_image_details(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    bob = await sign_in(http, runtime, "bob")
    body = await upload(http, alice.headers(), fields={"private": "true"})
    response = await http.get(f"{API}/images/{body['id']}", headers=alice.headers())
    assert response.status_code == 200
    assert response.json() | {"views": 0} == body | {"views": 0}
    assert_error(await http.get(f"{API}/images/{body['id']}"), 401)
    assert_error(await http.get(f"{API}/images/{body['id']}", headers=bob.headers()), 404, "Image not found")
    assert_error(await http.get(f"{API}/images/00000000-0000-4000-8000-000000000000", headers=alice.headers()), 404)
    # A public image of another account may be read, but its key is never shown to others.
    public = await upload(http, alice.headers(), make_jpeg(9, 9))
    seen = (await http.get(f"{API}/images/{public['id']}", headers=bob.headers())).json()
    assert seen["uuid"] == public["uuid"]
    assert seen["key"] is None


async def test_making_an_image_private_returns_its_key(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    body = await upload(http, alice.headers())
    path = f"/uploadkey/{body['uuid']}.jpg"
    assert (await http.get(path)).status_code == 200
    assert_error(
        await http.patch(f"{API}/images/{body['id']}", json={"private": True}, headers=alice.headers(csrf=False)), 403
    )
    response = await http.patch(f"{API}/images/{body['id']}", json={"private": True}, headers=alice.headers())
    assert response.status_code == 200
    assert response.json()["private"] is True
    key = response.json()["key"]
    assert_error(await http.get(path), 404)
    assert (await http.get(path, params={"key": key})).status_code == 200
    # Public again, then private again: the same key (it cannot be rotated per image).
    await http.patch(f"{API}/images/{body['id']}", json={"private": False}, headers=alice.headers())
    assert (await http.get(path)).status_code == 200
    again = await http.patch(f"{API}/images/{body['id']}", json={"private": True}, headers=alice.headers())
    assert again.json()["key"] == key
    bob = await sign_in(http, runtime, "bob")
    assert_error(await http.patch(f"{API}/images/{body['id']}", json={"private": False}, headers=bob.headers()), 404)
    assert_error(await http.patch(f"{API}/images/{body['id']}", json={"private": "x"}, headers=alice.headers()), 400)


# --- GET /api/proxy/{uuid}.{ext}: authenticated, no view counted ---


async def test_proxy_serves_without_counting_a_view(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    body = await upload(http, alice.headers(), make_jpeg(40, 30), fields={"private": "true"})
    details = f"{API}/images/{body['id']}"
    for _ in range(2):
        served(await http.get(f"{API}/proxy/{body['uuid']}.jpg", headers=alice.headers()), "jpeg")
    served(await http.get(f"{API}/proxy/{body['uuid']}.webp", headers=alice.headers()), "webp")
    assert (await http.get(details, headers=alice.headers())).json()["views"] == 0
    served(await http.get(f"/uploadkey/{body['uuid']}.jpg", params={"key": body["key"]}), "jpeg")
    assert (await http.get(details, headers=alice.headers())).json()["views"] == 1


async def test_head_answers_the_serving_headers_without_a_body_or_a_view(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    alice = await sign_in(http, runtime)
    body = await upload(http, alice.headers(), make_jpeg(40, 30), fields={"private": "true"})
    details = f"{API}/images/{body['id']}"
    assert (await http.head(f"/uploadkey/{body['uuid']}.jpg")).status_code == 404
    assert (await http.head(f"/uploadkey/{body['uuid']}.jpg", params={"key": body["key"]})).status_code == 200
    assert (await http.head(f"{API}/proxy/{body['uuid']}.jpg")).status_code == 401
    assert (await http.get(details, headers=alice.headers())).json()["views"] == 0
    await assert_head_matches_get(http, f"/uploadkey/{body['uuid']}.jpg", params={"key": body["key"]})
    await assert_head_matches_get(http, f"/uploadkey/{body['uuid']}.webp", params={"key": body["key"]})
    await assert_head_matches_get(http, f"{API}/proxy/{body['uuid']}.png", headers=alice.headers())
    assert (await http.get(details, headers=alice.headers())).json()["views"] == 2  # the two GETs of /{uuid}


async def test_proxy_errors(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    bob = await sign_in(http, runtime, "bob")
    body = await upload(http, alice.headers(), fields={"private": "true"})
    path = f"{API}/proxy/{body['uuid']}.jpg"
    assert_error(await http.get(path), 401, "Not authenticated")
    assert_error(await http.get(path, params={"key": body["key"]}), 401)
    assert_error(await http.get(path, headers=await upload_key(runtime, http, alice)), 401)
    assert_error(await http.get(path, headers=bob.headers()), 404, "Image not found")
    assert_error(await http.get(f"{API}/proxy/{body['uuid']}.txt", headers=alice.headers()), 404)
    assert_error(await http.get(f"{API}/proxy/00000000-0000-4000-8000-000000000000.jpg", headers=alice.headers()), 404)


# --- DELETE /api/delete/{uuid} ---


async def test_delete(http: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await sign_in(http, runtime)
    bob = await sign_in(http, runtime, "bob")
    body = await upload(http, alice.headers())
    path = f"{API}/delete/{body['uuid']}"
    assert_error(await http.delete(path), 401, "Not authenticated")
    assert_error(await http.delete(path, headers=alice.headers(csrf=False)), 403, "Invalid CSRF token")
    assert_error(await http.delete(path, headers=bob.headers()), 404, "Image not found")
    assert_error(await http.delete(path, headers=await upload_key(runtime, http, alice)), 401)
    response = await http.delete(path, headers=alice.headers())
    assert response.status_code == 200
    assert response.json() == {"message": "Image deleted", "uuid": body["uuid"]}
    assert_error(await http.delete(path, headers=alice.headers()), 404)
    assert_error(await http.get(f"/uploadkey/{body['uuid']}.jpg"), 404)
    assert not [p for p in stored_files(settings) if "blobs" in p.parts]


# --- 500 ---


async def test_unexpected_errors_are_500_in_the_error_shape(
    http: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await sign_in(http, runtime)

    async def broken(**_: Any) -> Any:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("pinhole.services.listing.list_images", broken)
    response = await http.get(f"{API}/list", headers=alice.headers())
    assert_error(response, 500)
    assert "fell over" not in response.text


async def test_unknown_api_paths_answer_in_the_error_shape(http: httpx.AsyncClient) -> None:
    assert_error(await http.get(f"{API}/nothing-here"), 404)


# --- mounting ---


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"uploadkey": {"prefix": "/uk"}}}])
async def test_the_prefix_is_configurable(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "alice")
    response = await http.post("/uk/api/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    http.cookies.clear()
    browser = Browser(session_cookie(response).value, response.json()["csrfToken"])
    body = await http.post("/uk/api/upload", headers=browser.headers(), files={"file": ("a.jpg", make_jpeg(8, 8))})
    assert body.json()["url"].startswith("http://testserver/uk/")
    assert (await http.get(body.json()["url"])).status_code == 200
    assert (await http.get("/uploadkey/api/list")).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"uploadkey": {"enabled": False}}}])
async def test_it_can_be_turned_off(http: httpx.AsyncClient) -> None:
    assert (await http.post(f"{API}/login", json={"username": "a", "password": "b"})).status_code == 404


# --- rate limits (not in the document): `uploadkey.<route name>` scopes, refusals in the error shape ---


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"*": "off", "uploadkey.list": "2/minute"}}}])
async def test_rate_limits_use_uploadkey_scopes(http: httpx.AsyncClient, runtime: Runtime) -> None:
    alice = await sign_in(http, runtime)
    for _ in range(2):
        ok = await http.get(f"{API}/list", headers=alice.headers())
        assert ok.status_code == 200
        assert ok.headers["x-ratelimit-limit"] == "2"
    refused = await http.get(f"{API}/list", headers=alice.headers())
    assert_error(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    assert (await http.get(f"{API}/session", headers=alice.headers())).status_code == 200
