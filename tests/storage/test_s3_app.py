"""The whole app on the S3 store (moto on loopback): uploads land in the bucket, originals and variants are served
from it (proxied, or as a redirect to a presigned URL with `storage.s3.presign_originals`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pinhole.observability.storage import unwrap_store
from pinhole.runtime import Runtime
from pinhole.storage.s3 import S3BlobStore
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.s3server import S3Server

pytestmark = pytest.mark.anyio

PREFIX = "app/"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, s3_server: S3Server, bucket: str) -> dict[str, Any]:
    """S3 storage; parametrize indirectly with a dict of extra `storage.s3` settings."""
    extra: dict[str, Any] = getattr(request, "param", {})
    s3 = s3_server.settings(bucket, prefix=PREFIX, **extra).model_dump()
    s3["secret_access_key"] = s3_server.secret_access_key
    return {"storage": {"backend": "s3", "s3": s3}}


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(400, 300), user="alice")


def bucket_keys(s3_server: S3Server, bucket: str) -> list[str]:
    listed = s3_server.client.list_objects_v2(Bucket=bucket, Prefix=PREFIX, MaxKeys=1000)
    return sorted(item["Key"] for item in listed.get("Contents", []))


async def stored_original(runtime: Runtime) -> tuple[str, bytes]:
    keys = [key async for key in runtime.store.list_keys("originals/")]
    assert len(keys) == 1
    return keys[0], await runtime.store.get_bytes(keys[0])


async def test_upload_and_serving_go_through_the_bucket(
    http: httpx.AsyncClient, runtime: Runtime, s3_server: S3Server, bucket: str, photo: dict[str, Any]
) -> None:
    assert isinstance(unwrap_store(runtime.store), S3BlobStore)  # under the metrics wrapper
    key, original = await stored_original(runtime)
    assert bucket_keys(s3_server, bucket) == [PREFIX + key]

    served = await http.get(f"/v2/images/{photo['id']}")
    assert served.status_code == 200
    assert served.content == original
    assert int(served.headers["content-length"]) == len(original) == photo["size"]
    assert served.headers["content-type"] == "image/jpeg"

    variant = await http.get(f"/v2/images/{photo['id']}", params={"w": 100, "format": "png"})
    assert variant.status_code == 200
    img.assert_image(variant.content, format="png", width=100, height=75)
    assert any(name.startswith(PREFIX + "variants/") for name in bucket_keys(s3_server, bucket))

    status = await http.get("/v2/status")
    assert status.status_code == 200, status.text


PRESIGN = {"presign_originals": True, "presign_expiry_seconds": 120}


@pytest.mark.parametrize("settings_overrides", [PRESIGN], indirect=True)
async def test_presigned_originals_redirect_to_the_service(
    http: httpx.AsyncClient, runtime: Runtime, s3_server: S3Server, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    _, original = await stored_original(runtime)
    path = f"/v2/images/{photo['id']}"

    response = await http.get(path, headers=tenant.headers("alice"))  # credentials: past the in-memory fast path

    assert response.status_code == 307
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert location.startswith(s3_server.endpoint_url)
    assert "X-Amz-Expires=120" in urlsplit(location).query
    async with httpx.AsyncClient() as direct:
        fetched = await direct.get(location)
    assert fetched.status_code == 200
    assert fetched.content == original
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("settings_overrides", [PRESIGN], indirect=True)
async def test_presigning_leaves_head_304_and_variants_alone(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    path = f"/v2/images/{photo['id']}"
    headers = tenant.headers("alice")

    head = await http.head(path, headers=headers)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == photo["size"]
    etag = head.headers["etag"]
    assert (await http.get(path, headers={**headers, "If-None-Match": etag})).status_code == 304
    variant = await http.get(path, params={"w": 50}, headers=headers)
    assert variant.status_code == 200
    img.assert_image(variant.content, format="jpeg", width=50, height=38)


@pytest.mark.parametrize("settings_overrides", [PRESIGN], indirect=True)
async def test_presigned_private_original_is_not_public_and_not_cached(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    private = await upload(http, tenant, img.make_jpeg(40, 30), user="alice", fields={"isPrivate": "true"})
    path = f"/v2/images/{private['id']}"

    anonymous = await http.get(path)
    owner = await http.get(path, headers=tenant.headers("alice"))

    assert anonymous.headers.get("x-pinhole-fallback") == "1"  # no redirect for whoever may not see it
    assert owner.status_code == 307
    async with httpx.AsyncClient() as direct:
        fetched = await direct.get(owner.headers["location"])
    assert fetched.status_code == 200
    assert fetched.content == (await stored_original(runtime))[1]
    assert fetched.headers["cache-control"].startswith("private")
