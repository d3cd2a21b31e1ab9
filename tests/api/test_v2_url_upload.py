"""`POST /v2/images` with a `url` instead of a `file`: fetched by the hostile-target fetcher, then ingested."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinhole.db.models import Client, Image
from pinhole.runtime import Runtime
from tests.api.v2helpers import stored_files
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.origin import Origin, run_origin

pytestmark = pytest.mark.anyio

PRIVATE_OK = {"fetch": {"allow_private_networks": True}}


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with run_origin() as running:
        yield running


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", PRIVATE_OK)


async def post_url(http: httpx.AsyncClient, tenant: ApiClient, url: str, **fields: str) -> httpx.Response:
    # multipart/form-data with text fields only: parts without a file name (httpx sends multipart for `files`).
    parts = [(name, (None, value)) for name, value in {"url": url, **fields}.items()]
    return await http.post("/v2/images", headers=tenant.headers("alice"), files=parts)


async def image_count(runtime: Runtime) -> int:
    async with runtime.db.reader() as session:
        return await session.scalar(select(func.count()).select_from(Image)) or 0


async def test_upload_from_a_url(http: httpx.AsyncClient, tenant: ApiClient, origin: Origin) -> None:
    response = await post_url(
        http, tenant, f"{origin.base}/redirect/2", description="From the web", tags="web", isPrivate="true"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"], body["format"]) == (80, 60, "jpeg")
    assert body["originalName"] == "image.jpg"  # the final URL's last segment
    assert (body["description"], body["tags"], body["isPrivate"]) == ("From the web", ["web"], True)
    served = await http.get(f"/v2/images/{body['id']}", headers=tenant.headers("alice"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("settings_overrides", [{}], indirect=True)
async def test_private_targets_are_refused_by_default(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, origin: Origin
) -> None:
    for url in (
        f"{origin.base}/image.jpg",
        f"http://localhost:{origin.port}/image.jpg",
        f"http://2130706433:{origin.port}/image.jpg",
        f"http://[::ffff:127.0.0.1]:{origin.port}/image.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "file:///etc/passwd",
    ):
        response = await post_url(http, tenant, url)
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "url_refused"
        assert response.json()["error"]["field"] == "url"
    assert await image_count(runtime) == 0
    assert stored_files(runtime.settings) == []


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/status/404", 422, "url_fetch_failed"),
        ("/echo", 415, "unsupported_format"),  # fetched fine, but not an image
        ("/endless", 413, "file_too_large"),
        ("/redirect/4", 400, "url_refused"),
        ("/to?url=http://169.254.169.254/", 400, "url_refused"),
    ],
)
async def test_bad_targets(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, origin: Origin, path: str, status: int, code: str
) -> None:
    response = await post_url(http, tenant, origin.base + path)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await image_count(runtime) == 0
    assert stored_files(runtime.settings) == []


async def test_a_file_and_a_url_together_are_refused(
    http: httpx.AsyncClient, tenant: ApiClient, origin: Origin
) -> None:
    response = await http.post(
        "/v2/images",
        headers=tenant.headers(),
        data={"url": f"{origin.base}/image.jpg"},
        files={"file": ("a.jpg", img.make_jpeg(20, 20), "image/jpeg")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "url"


async def test_the_url_counts_against_the_clients_file_size_limit(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, origin: Origin
) -> None:
    async with runtime.db.writer() as session:
        client = await session.get(Client, tenant.id)
        assert client is not None
        client.max_file_bytes = 1024  # below the origin's image
    response = await post_url(http, tenant, f"{origin.base}/image.jpg")
    assert response.status_code == 413
    assert response.json()["error"]["details"]["limit"] == 1024


async def test_upload_from_a_url_as_json(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, origin: Origin
) -> None:
    album = await http.post("/v2/albums", headers=tenant.headers("alice"), json={"name": "Found online"})
    assert album.status_code == 201, album.text
    body = {
        "url": f"{origin.base}/redirect/1",
        "description": "From the web",
        "tags": ["web", "found"],
        "isPrivate": True,
        "albumId": album.json()["id"],
    }
    response = await http.post("/v2/images", headers=tenant.headers("alice"), json=body)
    assert response.status_code == 201, response.text
    image = response.json()
    assert (image["width"], image["height"], image["format"], image["originalName"]) == (80, 60, "jpeg", "image.jpg")
    assert (image["description"], image["tags"], image["isPrivate"]) == ("From the web", ["found", "web"], True)
    listed = await http.get(f"/v2/albums/{album.json()['id']}/images", headers=tenant.headers("alice"))
    assert [item["id"] for item in listed.json()["data"]] == [image["id"]]


async def test_a_json_upload_takes_tags_as_one_string(
    http: httpx.AsyncClient, tenant: ApiClient, origin: Origin
) -> None:
    body = {"url": f"{origin.base}/image.jpg", "tags": "a, b"}
    response = await http.post("/v2/images", headers=tenant.headers(), json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["tags"], response.json()["isPrivate"]) == (["a", "b"], False)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "url"),
        ({"url": ""}, 400, "url"),
        ({"url": 42}, 400, "url"),
        ({"url": "http://x.example/a.jpg", "isPrivate": "maybe"}, 400, "isPrivate"),
        ({"url": "http://x.example/a.jpg", "description": "d" * 2001}, 400, "description"),
        ({"url": "http://x.example/a.jpg", "file": "abc"}, 400, "file"),
        ({"url": "ftp://x.example/a.jpg"}, 400, "url"),
        ({"url": "http://x.example/a.jpg", "albumId": "no-such-album"}, 404, "albumId"),
    ],
)
async def test_bad_json_uploads(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, body: dict[str, Any], status: int, field: str
) -> None:
    # x.example does not resolve: each body is refused before anything is fetched (422 url_fetch_failed otherwise)
    response = await http.post("/v2/images", headers=tenant.headers("alice"), json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert await image_count(runtime) == 0


async def test_json_that_is_not_an_object_or_too_large_is_refused(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    for content in (b"[1, 2]", b"{not json", b'"http://x.example/a.jpg"'):
        response = await http.post(
            "/v2/images", headers=tenant.headers() | {"Content-Type": "application/json"}, content=content
        )
        assert response.status_code == 400, content
        assert response.json()["error"]["code"] == "invalid_input"
    huge = {"url": "http://x.example/a.jpg", "description": "d" * 70000}
    too_large = await http.post("/v2/images", headers=tenant.headers(), json=huge)
    assert too_large.status_code == 413


async def test_the_json_upload_is_in_the_openapi_document(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    content = document["paths"]["/v2/images"]["post"]["requestBody"]["content"]
    assert set(content) == {"multipart/form-data", "application/json"}
    schema = content["application/json"]["schema"]
    assert schema["required"] == ["url"]
    assert set(schema["properties"]) == {"url", "description", "tags", "isPrivate", "albumId"}
    assert content["application/json"]["example"]["url"] == "https://example.com/photos/beach.jpg"
