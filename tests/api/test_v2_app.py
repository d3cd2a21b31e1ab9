"""The v2 API as a whole: its prefix setting, OpenAPI document, and errors for unknown routes."""

from __future__ import annotations

import httpx
import pytest

from tests.api.v2helpers import upload
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio

V2_PATHS = {
    "/v2/images": {"get", "post"},
    "/v2/images/{image_id}": {"get", "head", "patch", "delete"},
    "/v2/images/{image_id}/share": {"post"},
    "/v2/images/{image_id}/share/{token}": {"delete"},
    "/v2/images/{image_id}/sign": {"post"},
    "/v2/images/share/{share_token}": {"get", "head"},
    "/v2/status": {"get"},
    **{
        f"/v2{prefix}/{path}": methods
        for prefix in ("/auth", "/admin/auth")
        for path, methods in {
            "login": {"post"},
            "refresh": {"post"},
            "logout": {"post"},
            "me": {"get", "patch"},
            "me/change-password": {"post"},
        }.items()
    },
    "/v2/auth/session": {"get", "post", "delete"},
    "/v2/auth/session/refresh": {"post"},
}

ACCOUNT_KEY_PATHS = {
    "/v2/account/keys": {"get", "post"},
    "/v2/account/keys/{key_id}": {"delete"},
    "/v2/account/upload-keys": {"get", "post"},
    "/v2/account/upload-keys/{key_id}": {"delete"},
    "/v2/account/upload-keys/{key_id}/sharex": {"get"},
}
V2_PATHS |= ACCOUNT_KEY_PATHS
AVATAR_GROUP_TAG_PATHS = {
    "/v2/avatars": {"post"},
    "/v2/avatars/{external_user_id}": {"get", "head", "delete"},
    "/v2/avatars/{client_id}/{external_user_id}": {"get", "head"},
    "/v2/groups/{group_id}": {"get", "patch", "delete"},
    "/v2/tags": {"get"},
}
V2_PATHS |= AVATAR_GROUP_TAG_PATHS
V2_PATHS |= {"/v2/uploads": {"post", "options"}, "/v2/uploads/{upload_id}": {"head", "get", "patch", "delete"}}

ALBUM_PATHS = {
    "/v2/albums": {"get", "post"},
    "/v2/albums/{album_id}": {"get", "patch", "delete"},
    "/v2/albums/{album_id}/images": {"get", "post", "delete"},
    "/v2/albums/{album_id}/tokens": {"post"},
    "/v2/albums/{album_id}/tokens/{token}": {"delete"},
}
V2_PATHS |= ALBUM_PATHS

STATS_AND_ADMIN_PATHS = {
    "/v2/client/stats": {"get"},
    "/v2/admin/stats": {"get"},
    "/v2/admin/settings": {"get", "patch"},
    "/v2/admin/clients": {"get"},
    "/v2/admin/clients/{client_id}": {"get", "patch"},
    "/v2/admin/images": {"get", "post"},
    "/v2/admin/images/tags": {"get"},
    "/v2/admin/images/{image_id}": {"get", "patch", "delete"},
    "/v2/admin/avatars": {"get"},
    "/v2/admin/avatars/{avatar_id}": {"get", "delete"},
    "/v2/admin/albums": {"get"},
    "/v2/admin/albums/{album_id}": {"get", "patch", "delete"},
    "/v2/admin/clients/{client_id}/proxy-keys": {"get", "post"},
    "/v2/admin/clients/{client_id}/proxy-keys/{key_id}": {"delete"},
    "/v2/admin/presets": {"get", "post"},
    "/v2/admin/presets/{name}": {"patch", "delete"},
    "/v2/admin/users": {"get"},
    "/v2/admin/users/{user_id}": {"get", "patch", "delete"},
    "/v2/admin/users/{user_id}/reset-links": {"post"},
}
V2_PATHS |= STATS_AND_ADMIN_PATHS


async def test_openapi_documents_every_v2_route(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    found = {path: set(ops) for path, ops in spec["paths"].items() if path.startswith("/v2")}
    assert found == V2_PATHS
    upload_body = spec["paths"]["/v2/images"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload_body["required"] == []  # a `file`, or a `url` to fetch the image from
    assert {"file", "url", "tags", "description", "isPrivate", "albumId"} <= set(upload_body["properties"])
    created = spec["paths"]["/v2/images"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert {item["$ref"] for item in created["anyOf"]} == {  # one file: the image; several: their group
        "#/components/schemas/ImagePublic",
        "#/components/schemas/GroupUpload",
    }
    assert "ErrorResponse" in spec["components"]["schemas"]
    for path in V2_PATHS:
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["v2"]
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_unknown_routes_answer_in_the_v2_shape(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v2/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await http.put("/v2/status")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"v2": {"prefix": "/api/v2"}}}])
async def test_the_prefix_is_a_setting(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await http.post("/api/v2/images", headers=tenant.headers(), files={"file": ("a.png", _png())})
    assert response.status_code == 201, response.text
    assert response.json()["url"].startswith("http://testserver/api/v2/images/")
    assert (await http.get(response.json()["url"].removeprefix("http://testserver"))).status_code == 200
    assert (await http.get("/v2/status")).status_code == 404


def _png() -> bytes:
    from tests.support.images import make_png

    return make_png(10, 10)


@pytest.mark.parametrize("settings_overrides", [{"server": {"public_url": "https://img.example.com/"}}])
async def test_public_url_setting_shapes_links(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await upload(http, tenant)
    assert body["url"] == f"https://img.example.com/v2/images/{body['id']}"
    share = await http.post(f"/v2/images/{body['id']}/share", headers=tenant.headers())
    assert share.json()["url"].startswith("https://img.example.com/v2/images/share/shr_")
