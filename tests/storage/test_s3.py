"""What only `S3BlobStore` promises, checked against moto's S3 server on loopback: multipart uploads of large
files, key prefixes that isolate tenants of one bucket, failures that become `StorageError`, presigned URLs,
and the settings that select and configure it."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from pinhole.errors import BlobNotFound, StorageError
from pinhole.settings import MB, SettingsError, load_settings
from pinhole.storage import create_blob_store
from pinhole.storage.s3 import S3BlobStore
from tests.support.s3server import REGION, S3Server, free_port, start_s3_server

pytestmark = pytest.mark.anyio

PART = 5 * MB  # the smallest part S3 accepts
DATA = bytes(range(256)) * 4096  # 1 MiB, every offset distinguishable within a 256-byte window


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
async def store(s3_server: S3Server, bucket: str) -> AsyncIterator[S3BlobStore]:
    blob_store = S3BlobStore(s3_server.settings(bucket, multipart_threshold=PART, multipart_part_size=PART))
    yield blob_store
    await blob_store.aclose()


def large_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("move", [False, True])
async def test_large_file_goes_up_in_parts(
    store: S3BlobStore, s3_server: S3Server, bucket: str, tmp_path: Path, move: bool
) -> None:
    source = tmp_path / "big.bin"
    data = large_file(source, 2 * PART + 12345)

    assert await store.put_file("originals/big", source, move=move) == len(data)

    head = s3_server.client.head_object(Bucket=bucket, Key="originals/big")
    assert head["ETag"].strip('"').endswith("-3")  # S3 marks objects assembled from 3 parts
    assert await store.get_bytes("originals/big") == data
    assert await store.stat("originals/big") == len(data)
    assert source.exists() is not move


async def test_small_file_goes_up_in_one_request(
    store: S3BlobStore, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "small.bin"
    source.write_bytes(DATA)

    await store.put_file("originals/small", source)

    head = s3_server.client.head_object(Bucket=bucket, Key="originals/small")
    assert "-" not in head["ETag"]


async def test_put_file_holds_about_one_part_in_memory(store: S3BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    size = 6 * PART
    large_file(source, size)

    tracemalloc.start()
    try:
        await store.put_file("originals/big", source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < size // 2


async def test_ranges_of_a_multipart_object(store: S3BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = large_file(source, 2 * PART + 1)
    await store.put_file("k", source)

    async def window(**kwargs: int) -> bytes:
        return b"".join([chunk async for chunk in store.stream("k", **kwargs)])

    assert await window(start=PART - 10, end=PART + 10) == data[PART - 10 : PART + 10]
    assert await window(start=2 * PART) == data[2 * PART :]
    assert await window(start=len(data)) == b""
    assert await window(start=len(data) + 5, end=len(data) + 9) == b""


async def test_stream_of_empty_blob_and_empty_window(store: S3BlobStore) -> None:
    await store.put_bytes("empty", b"")

    assert [chunk async for chunk in store.stream("empty", start=3)] == []
    assert [chunk async for chunk in store.stream("empty", start=0, end=0)] == []
    with pytest.raises(BlobNotFound):
        [chunk async for chunk in store.stream("missing", start=4, end=4)]


async def test_stream_stopped_early_leaves_the_store_usable(store: S3BlobStore) -> None:
    await store.put_bytes("k", DATA)

    for _ in range(40):  # more than the connection pool holds
        stream = store.stream("k", chunk_size=1000)
        assert len(await anext(stream)) == 1000
        await stream.aclose()  # type: ignore[attr-defined]

    assert await store.get_bytes("k") == DATA


async def test_prefix_isolates_stores_sharing_a_bucket(s3_server: S3Server, bucket: str) -> None:
    one = S3BlobStore(s3_server.settings(bucket, prefix="one/"))
    two = S3BlobStore(s3_server.settings(bucket, prefix="two/"))
    try:
        await one.put_bytes("originals/a", b"from one")
        await two.put_bytes("originals/a", b"from two")
        await two.put_bytes("originals/b", b"only two")
        s3_server.client.put_object(Bucket=bucket, Key="one/Foreign Name", Body=b"?")
        s3_server.client.put_object(Bucket=bucket, Key="outside", Body=b"?")

        assert [key async for key in one.list_keys()] == ["originals/a"]
        assert [key async for key in two.list_keys("originals/")] == ["originals/a", "originals/b"]
        assert await one.get_bytes("originals/a") == b"from one"
        assert await one.stat("originals/b") is None
        await one.delete("originals/a")
        assert await two.get_bytes("originals/a") == b"from two"

        raw = s3_server.client.list_objects_v2(Bucket=bucket, MaxKeys=1000)
        names = sorted(item["Key"] for item in raw["Contents"])
        assert names == ["one/Foreign Name", "outside", "two/originals/a", "two/originals/b"]
    finally:
        await one.aclose()
        await two.aclose()


async def test_listing_pages_through_many_keys(store: S3BlobStore) -> None:
    keys = sorted(f"variants/{n:03d}" for n in range(25))  # the test server pages 3 keys at a time
    for key in keys:
        await store.put_bytes(key, b"v")

    assert [key async for key in store.list_keys("variants/")] == keys
    assert [key async for key in store.list_keys("variants/01")] == keys[10:20]


async def test_presigned_url_serves_the_bytes_without_credentials(store: S3BlobStore) -> None:
    await store.put_bytes("originals/p", DATA)

    url = await store.presigned_url("originals/p", 60, content_type="image/png")

    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        tampered = await client.get(url.replace("originals/p", "originals/q"))
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "image/png"
    assert tampered.status_code == 403


async def test_presigned_url_checks_key_and_expiry(store: S3BlobStore) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        await store.presigned_url("../x", 60)
    with pytest.raises(ValueError, match="expiry"):
        await store.presigned_url("x", 0)


async def test_missing_bucket_is_a_storage_error(s3_server: S3Server) -> None:
    store = S3BlobStore(s3_server.settings("no-such-bucket-here"))
    try:
        with pytest.raises(StorageError) as caught:
            await store.put_bytes("k", b"x")
        assert not isinstance(caught.value, BlobNotFound)
        with pytest.raises(StorageError) as caught:
            await store.get_bytes("k")
        assert not isinstance(caught.value, BlobNotFound)
        with pytest.raises(StorageError):
            [key async for key in store.list_keys()]
        with pytest.raises(StorageError):
            await store.health_check()
    finally:
        await store.aclose()


async def test_unreachable_service_is_a_storage_error(s3_server: S3Server) -> None:
    store = S3BlobStore(
        s3_server.settings("b", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1, timeout_seconds=2)
    )
    try:
        with pytest.raises(StorageError, match="unavailable"):
            await store.health_check()
        with pytest.raises(StorageError):
            await store.stat("k")
    finally:
        await store.aclose()


@pytest.fixture(scope="module")
def auth_server() -> Iterator[tuple[S3Server, str]]:
    """A second server that checks signatures: its first three requests (unchecked) make a user with a key."""
    server = start_s3_server({"INITIAL_NO_AUTH_ACTION_COUNT": "3"})
    try:
        iam = boto3.session.Session().client(
            "iam",
            endpoint_url=server.endpoint_url,
            region_name=REGION,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="pinhole")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName="pinhole", PolicyName="all", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="pinhole")["AccessKey"]
        iam.close()
        server.access_key_id, server.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        bucket = server.new_bucket()
        yield server, bucket
    finally:
        server.stop()


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({}, id="valid"),
        pytest.param({"secret_access_key": "wrong-secret"}, id="wrong-secret"),
        pytest.param({"access_key_id": "AKIAUNKNOWNKEY000000"}, id="unknown-key"),
    ],
)
async def test_credentials_are_checked(auth_server: tuple[S3Server, str], credentials: dict[str, str]) -> None:
    server, bucket = auth_server
    store = S3BlobStore(server.settings(bucket, **credentials))
    try:
        if not credentials:
            await store.health_check()
            await store.put_bytes("k", b"x")
            assert await store.get_bytes("k") == b"x"
            return
        with pytest.raises(StorageError):
            await store.health_check()
        with pytest.raises(StorageError) as caught:
            await store.get_bytes("k")
        assert not isinstance(caught.value, BlobNotFound)
    finally:
        await store.aclose()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in [n for n in os.environ if n.startswith("PINHOLE_")]:
        monkeypatch.delenv(name)
    return monkeypatch


async def test_environment_selects_and_configures_s3(
    clean_env: pytest.MonkeyPatch, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    for name, value in {
        "BACKEND": "s3",
        "S3__ENDPOINT_URL": s3_server.endpoint_url,
        "S3__BUCKET": bucket,
        "S3__REGION": REGION,
        "S3__ACCESS_KEY_ID": s3_server.access_key_id,
        "S3__SECRET_ACCESS_KEY": s3_server.secret_access_key,
        "S3__PREFIX": "env/",
        "S3__PATH_STYLE": "true",
    }.items():
        clean_env.setenv(f"PINHOLE_STORAGE__{name}", value)

    settings = load_settings()
    store = create_blob_store(backend=settings.storage.backend, local_root=tmp_path, s3=settings.storage.s3)
    try:
        assert isinstance(store, S3BlobStore)
        assert store.local_path("a/b") is None
        await store.put_bytes("a/b", b"via env")
    finally:
        await store.aclose()
    assert s3_server.client.get_object(Bucket=bucket, Key="env/a/b")["Body"].read() == b"via env"
    assert s3_server.secret_access_key not in repr(settings)


def test_s3_without_bucket_is_a_settings_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PINHOLE_STORAGE__BACKEND", "s3")

    with pytest.raises(SettingsError, match="PINHOLE_STORAGE__S3__BUCKET"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PINHOLE_STORAGE__S3__PREFIX", "/abs/", "PINHOLE_STORAGE__S3__PREFIX: .*relative"),
        ("PINHOLE_STORAGE__S3__PREFIX", "a//b/", "PINHOLE_STORAGE__S3__PREFIX: .*relative"),
        ("PINHOLE_STORAGE__S3__MULTIPART_PART_SIZE", "1024", "PINHOLE_STORAGE__S3__MULTIPART_PART_SIZE"),
        ("PINHOLE_STORAGE__S3__ACCESS_KEY_ID", "only-the-id", "PINHOLE_STORAGE__S3: .*secret_access_key"),
    ],
)
def test_invalid_s3_settings_name_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    clean_env.setenv("PINHOLE_STORAGE__S3__BUCKET", "b")
    clean_env.setenv(variable, value)

    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_factory_needs_s3_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"storage\.s3"):
        create_blob_store(backend="s3", local_root=tmp_path)
