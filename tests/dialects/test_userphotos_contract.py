"""The user.photos API document, top to bottom, through the real app.

Authentication, upload and its response, the image URL and its parameters, then every documented error with its
status and shape; last, the same images seen through v2 and the mount settings.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.api.accounthelpers import make_account, personal_key_headers
from tests.api.v2helpers import stored_files
from tests.api.v2helpers import upload as v2_upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

IMAGE_ID = re.compile(r"img_[0-9a-f]{16}")
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def bearer(client: ApiClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.key}"}


async def upload(
    http: httpx.AsyncClient,
    client: ApiClient,
    data: bytes | None = None,
    *,
    user_id: str | None = "12345",
    filename: str = "avatar.jpg",
    field: str = "image",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    fields = {} if user_id is None else {"user_id": user_id}
    body = img.make_jpeg(800, 600) if data is None else data
    return await http.post(
        "/v1/upload",
        headers=bearer(client) if headers is None else headers,
        data=fields,
        files={field: (filename, body, "application/octet-stream")},
    )


async def uploaded(http: httpx.AsyncClient, client: ApiClient, data: bytes | None = None, **kw: Any) -> dict[str, Any]:
    response = await upload(http, client, data, **kw)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, code: str, details: str | None = None) -> dict[str, Any]:
    """The document's error shape, exactly: success false, error with code, message and details."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if details is not None:
        assert body["error"]["details"] == details
    return body


def local(url: str) -> str:
    return url.removeprefix("http://testserver")


# --- Authentication: `Authorization: Bearer your_api_key_here` -------------------------------------------------


async def test_the_api_key_goes_in_the_authorization_header(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await upload(http, tenant)).status_code == 200
    # pinhole's own header works too.
    assert (await upload(http, tenant, headers={"X-API-Key": tenant.key})).status_code == 200


async def test_missing_or_invalid_api_key_is_401(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    message = "Missing or invalid API key in Authorization header"
    body = assert_error(await upload(http, tenant, headers={}), 401, "INVALID_API_KEY")
    assert body["error"]["message"] == message
    assert_error(await upload(http, tenant, headers={"Authorization": "Bearer phk_wrong"}), 401, "INVALID_API_KEY")
    assert_error(await upload(http, tenant, headers={"Authorization": "Basic abc"}), 401, "INVALID_API_KEY")
    # Accounts' credentials are not a client's API key: user_id names an external user of a client.
    account = await make_account(runtime, "ann")
    assert_error(await upload(http, tenant, headers=account.headers()), 401, "INVALID_API_KEY")
    keyed = await personal_key_headers(runtime, account)
    assert_error(await upload(http, tenant, headers=keyed), 401, "INVALID_API_KEY")


# --- Upload Images: POST /v1/upload, multipart user_id + image --------------------------------------------------


async def test_upload_answers_the_documented_json(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await upload(http, tenant, img.make_jpeg(800, 600), user_id="12345")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "success",
        "image_id",
        "user_id",
        "image_url",
        "thumbnail_url",
        "upload_date",
        "file_size",
        "dimensions",
    }
    assert body["success"] is True
    assert IMAGE_ID.fullmatch(body["image_id"])
    assert body["user_id"] == "12345"
    assert body["image_url"] == f"http://testserver/{body['image_id']}"
    assert body["thumbnail_url"] == f"{body['image_url']}?w=150&h=150"
    assert ISO_UTC.fullmatch(body["upload_date"])
    assert body["dimensions"] == {"width": 800, "height": 600}
    served = await http.get(local(body["image_url"]))
    assert served.status_code == 200
    assert isinstance(body["file_size"], int)
    assert body["file_size"] == len(served.content)


async def test_user_id_is_a_string_as_sent(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await uploaded(http, tenant, user_id="user123"))["user_id"] == "user123"
    assert (await uploaded(http, tenant, user_id="  42 "))["user_id"] == "42"


@pytest.mark.parametrize(
    ("data", "mime", "fmt"),
    [
        (img.make_jpeg(40, 30), "image/jpeg", "jpeg"),
        (img.make_png(40, 30), "image/png", "png"),
        (img.make_webp(40, 30), "image/webp", "webp"),
    ],
    ids=["jpeg", "png", "webp"],
)
async def test_jpeg_png_and_webp_are_accepted_and_served_as_such(
    http: httpx.AsyncClient, tenant: ApiClient, data: bytes, mime: str, fmt: str
) -> None:
    body = await uploaded(http, tenant, data, filename="whatever.bin")
    assert body["dimensions"] == {"width": 40, "height": 30}
    served = await http.get(local(body["image_url"]))
    assert served.headers["content-type"] == mime
    img.assert_image(served.content, format=fmt, width=40, height=30)


async def test_each_upload_gets_its_own_id(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    data = img.make_jpeg(20, 20)
    first, second = await uploaded(http, tenant, data), await uploaded(http, tenant, data)
    assert first["image_id"] != second["image_id"]


# --- Image URL formats: GET /{image_id}[?parameters] ------------------------------------------------------------


async def test_the_image_url_serves_the_original_with_cache_validators(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 600))
    url = local(body["image_url"])
    response = await http.get(url)  # public: no key needed
    assert response.status_code == 200
    img.assert_image(response.content, format="jpeg", width=800, height=600)
    assert response.headers["cache-control"].startswith("public, max-age=")
    etag = response.headers["etag"]
    again = await http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    head = await http.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(response.content))
    assert head.headers["etag"] == etag


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=200", (200, 150)),  # keeps the aspect ratio
        ("h=150", (200, 150)),
        ("w=100&h=100", (100, 100)),  # crops to fit
        ("w=150&h=150", (150, 150)),  # the square thumbnail
        ("w=400", (400, 300)),  # profile size
        ("w=1000", (1000, 750)),  # "set width to 1000px": larger than the original
    ],
)
async def test_sizing_parameters(http: httpx.AsyncClient, tenant: ApiClient, query: str, size: tuple[int, int]) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 600))
    response = await http.get(f"{local(body['image_url'])}?{query}")
    assert response.status_code == 200, response.text
    img.assert_image(response.content, format="jpeg", width=size[0], height=size[1])


async def test_both_sizes_crop_instead_of_squashing(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 400))
    crop = await http.get(f"{local(body['image_url'])}?w=100&h=100")
    img.assert_image(crop.content, format="jpeg", width=100, height=100)
    # The middle of the picture, not the whole picture squeezed: the red block (top-left quarter) is cut away.
    squeezed = await http.get(f"{local(body['image_url'])}?w=100&h=50")
    assert img.similarity(crop.content, squeezed.content) < 0.9


async def test_the_thumbnail_url_works(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 600))
    response = await http.get(local(body["thumbnail_url"]))
    img.assert_image(response.content, format="jpeg", width=150, height=150)


@pytest.mark.parametrize(("f", "fmt"), [("webp", "webp"), ("jpg", "jpeg"), ("png", "png"), ("jpeg", "jpeg")])
async def test_format_parameter(http: httpx.AsyncClient, tenant: ApiClient, f: str, fmt: str) -> None:
    body = await uploaded(http, tenant, img.make_png(80, 60))
    response = await http.get(f"{local(body['image_url'])}?w=40&f={f}")
    assert response.status_code == 200
    assert response.headers["content-type"] == f"image/{fmt}"
    img.assert_image(response.content, format=fmt, width=40, height=30)


async def test_optimized_webp_example(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 600))
    response = await http.get(f"{local(body['image_url'])}?w=300&f=webp&q=80")
    img.assert_image(response.content, format="webp", width=300, height=225)


async def test_quality_defaults_to_85(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(800, 600))
    url = local(body["image_url"])
    default, explicit, low = [await http.get(f"{url}?w=300{q}") for q in ("", "&q=85", "&q=20")]
    assert default.content == explicit.content
    assert default.headers["etag"] == explicit.headers["etag"]
    assert len(low.content) < len(default.content)
    # q alone re-encodes at that quality, in the original's format and size.
    only_q = await http.get(f"{url}?q=20")
    img.assert_image(only_q.content, format="jpeg", width=800, height=600)
    assert len(only_q.content) < body["file_size"]


@pytest.mark.parametrize(
    "query", ["q=0", "q=101", "f=gif", "f=avif", "w=0", "h=-5", "w=abc", "w=100000"], ids=lambda q: q
)
async def test_invalid_parameters_are_400_in_the_error_shape(
    http: httpx.AsyncClient, tenant: ApiClient, query: str
) -> None:
    body = await uploaded(http, tenant, img.make_jpeg(40, 30))
    response = await http.get(f"{local(body['image_url'])}?{query}")
    error = assert_error(response, 400, "INVALID_TRANSFORM" if query != "w=abc" else "INVALID_INPUT")
    assert error["error"]["details"] == f"Field: {query[0]}"


async def test_the_route_matches_only_image_ids(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    """At the server root the route takes `img_` + 16 hex digits and nothing else: pinhole's paths still answer."""
    assert (await http.get("/openapi.json")).status_code == 200
    assert (await http.get("/v2/status")).status_code == 200
    for path in ("/img_123", "/img_0123456789ABCDEF", "/img_0123456789abcdef0", "/healthzz"):
        response = await http.get(path)
        assert response.status_code == 404
        assert "success" not in response.text  # not this API's: it claims no 404 outside its routes and /v1


# --- Error handling ---------------------------------------------------------------------------------------------


async def test_missing_user_id_is_400(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = assert_error(await upload(http, tenant, user_id=None), 400, "MISSING_USER_ID")
    assert body["error"]["message"] == "user_id parameter is required for all uploads"
    assert_error(await upload(http, tenant, user_id="   "), 400, "MISSING_USER_ID")
    assert_error(await upload(http, tenant, user_id="x" * 256), 400, "INVALID_USER_ID")


@pytest.mark.parametrize(
    "data",
    [
        img.make_gif(20, 20),
        img.make_avif(20, 20),
        b"just some text, not an image",
        img.truncated(img.make_jpeg(200, 200), keep=0.3),
    ],
    ids=["gif", "avif", "text", "truncated-jpeg"],
)
async def test_invalid_image_format_is_400(http: httpx.AsyncClient, tenant: ApiClient, data: bytes) -> None:
    response = await upload(http, tenant, data, filename="avatar.jpg")
    body = assert_error(response, 400, "INVALID_IMAGE_FORMAT", "Only JPEG, PNG, and WebP files are supported")
    assert body["error"]["message"] == "The uploaded file is not a valid image format"


async def test_no_image_is_invalid_image_format(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await upload(http, tenant, field="file")
    body = assert_error(response, 400, "INVALID_IMAGE_FORMAT")
    assert "image" in body["error"]["details"]


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"userphotos": {"max_file_bytes": 20_000}}}])
async def test_file_too_large_is_413_and_leaves_nothing(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    big = img.make_png(300, 300)
    assert len(big) > 20_000
    body = assert_error(await upload(http, tenant, big), 413, "FILE_TOO_LARGE")
    assert "19.5 KB" in body["error"]["details"]  # says which limit
    assert stored_files(runtime.settings) == []
    assert (await upload(http, tenant, img.make_jpeg(20, 20))).status_code == 200


async def test_the_default_limit_is_10_mb(runtime: Runtime) -> None:
    assert runtime.settings.dialects.userphotos.max_file_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"userphotos.upload": "2/minute"}}}])
async def test_rate_limit_exceeded_is_429_with_retry_after(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    for _ in range(2):
        assert (await upload(http, tenant)).status_code == 200
    response = await upload(http, tenant)
    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-ratelimit-limit"] == "2"


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"rules": {"userphotos.serve": "1/minute"}}}])
async def test_serving_can_be_rate_limited(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    url = local((await uploaded(http, tenant))["image_url"])
    assert (await http.get(url)).status_code == 200
    assert_error(await http.get(url), 429, "RATE_LIMIT_EXCEEDED")


async def test_unknown_image_is_404(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = assert_error(await http.get("/img_0123456789abcdef"), 404, "IMAGE_NOT_FOUND")
    assert body["error"]["message"] == "The requested image does not exist or has been deleted"
    assert (await http.head("/img_0123456789abcdef")).status_code == 404


async def test_unknown_paths_under_v1_answer_in_this_shape(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/v1/nothing"), 404, "NOT_FOUND")
    assert_error(await http.get("/v1/upload"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("settings_overrides", [{"quotas": {"client_images": 1}}])
async def test_other_failures_keep_the_shape(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await upload(http, tenant)).status_code == 200
    assert_error(await upload(http, tenant), 403, "QUOTA_EXCEEDED")


# --- The same images through v2 ---------------------------------------------------------------------------------


async def test_an_upload_is_the_client_users_image_in_v2(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant, user_id="12345")
    listing = await http.get("/v2/images", headers=tenant.headers("12345"))
    [item] = listing.json()["data"]
    assert item["id"].replace("-", "").startswith(body["image_id"].removeprefix("img_"))
    assert item["externalUserId"] == "12345"
    assert item["isPrivate"] is False
    assert (item["width"], item["height"], item["size"]) == (800, 600, body["file_size"])
    other = await http.get("/v2/images", headers=tenant.headers("someone-else"))
    assert [i["id"] for i in other.json()["data"] if i["externalUserId"] == "12345"] in ([], [item["id"]])
    # Deleted through v2 (as its owner): gone here too.
    assert (await http.delete(f"/v2/images/{item['id']}", headers=tenant.headers("12345"))).status_code == 204
    assert_error(await http.get(local(body["image_url"])), 404, "IMAGE_NOT_FOUND")
    assert_error(await http.get(local(body["thumbnail_url"])), 404, "IMAGE_NOT_FOUND")


async def test_a_v2_image_has_a_userphotos_url(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    public = await v2_upload(http, tenant, img.make_jpeg(64, 48), user="alice")
    short = "img_" + public["id"].replace("-", "")[:16]
    img.assert_image((await http.get(f"/{short}?w=32")).content, format="jpeg", width=32, height=24)
    private = await v2_upload(http, tenant, img.make_jpeg(64, 48), user="alice", fields={"isPrivate": "true"})
    hidden = "img_" + private["id"].replace("-", "")[:16]
    assert_error(await http.get(f"/{hidden}"), 404, "IMAGE_NOT_FOUND")
    assert_error(await http.get(f"/{hidden}", headers=tenant.headers("bob")), 404, "IMAGE_NOT_FOUND")
    owner = await http.get(f"/{hidden}", headers=tenant.headers("alice"))
    assert owner.status_code == 200
    assert owner.headers["cache-control"].startswith("private")


async def test_another_client_cannot_list_or_delete_it(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    body = await uploaded(http, tenant, user_id="12345")
    listing = await http.get("/v2/images", headers=other_tenant.headers("12345"))
    assert listing.json()["data"] == []
    [item] = (await http.get("/v2/images", headers=tenant.headers("12345"))).json()["data"]
    assert (await http.delete(f"/v2/images/{item['id']}", headers=other_tenant.headers("12345"))).status_code == 404
    assert (await http.get(local(body["image_url"]))).status_code == 200


# --- Mounting ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"userphotos": {"prefix": "/photos"}}}])
async def test_a_prefix_moves_every_route_and_url(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await http.post("/v1/upload", headers=bearer(tenant))).status_code == 404
    response = await http.post(
        "/photos/v1/upload",
        headers=bearer(tenant),
        data={"user_id": "1"},
        files={"image": ("a.jpg", img.make_jpeg(20, 20))},
    )
    body = response.json()
    assert body["image_url"] == f"http://testserver/photos/{body['image_id']}"
    assert (await http.get(local(body["image_url"]))).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"userphotos": {"enabled": False}}}])
async def test_a_disabled_api_is_not_served(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await upload(http, tenant)).status_code == 404
    assert (await http.get("/img_0123456789abcdef")).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"server": {"public_url": "https://cdn.example.com"}}])
async def test_urls_use_the_public_url(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await uploaded(http, tenant)
    assert body["image_url"] == f"https://cdn.example.com/{body['image_id']}"


# --- Signed transform URLs (pinhole's setting; the document has none) ------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous", "keys": ["k1:" + "o" * 32]}}])
async def test_with_signed_transforms_the_thumbnail_url_comes_signed(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    body = await uploaded(http, tenant)
    assert body["thumbnail_url"].startswith(f"{body['image_url']}?w=150&h=150&sig=")
    img.assert_image((await http.get(local(body["thumbnail_url"]))).content, format="jpeg", width=150, height=150)
    assert (await http.get(local(body["image_url"]))).status_code == 200  # the original needs no signature
    assert_error(await http.get(f"{local(body['image_url'])}?w=300"), 403, "MISSING_SIGNATURE")
    # The owning client transforms freely.
    owned = await http.get(f"{local(body['image_url'])}?w=300", headers=tenant.headers("12345"))
    assert owned.status_code == 200
