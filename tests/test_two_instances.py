"""Two real `pinhole serve` processes sharing PostgreSQL, an S3 server and Redis behave as one service.

Upload through one, read, transform and delete through the other; a new variant asked of both at once is
rendered once (the bucket keeps object versions, so a second render would leave a second version); a rate limit
counts requests to both; a delete through one is seen by the other at once, although it had just served (and
cached) the image. Every server here is real: the local PostgreSQL (a database of its own), moto's S3 server and
the local Redis (a key prefix of its own); this test fails, never skips, when one is missing.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client

from tests.conftest import POSTGRES_ADMIN_URL, _admin, _with_database
from tests.support import images as img
from tests.support.s3server import S3Server
from tests.web.live import LiveServer, live_server

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/0"
STATUS_LIMIT = 5


@pytest.fixture
def shared_settings(s3_server: S3Server) -> Iterator[dict[str, str]]:
    name = f"pinhole_two_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    bucket = s3_server.new_bucket()
    s3_server.client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3 = s3_server.settings(bucket)
    settings = {
        "PINHOLE_SECRET_KEY": secrets.token_urlsafe(48),
        "PINHOLE_DATABASE__URL": _with_database(POSTGRES_ADMIN_URL, name),
        "PINHOLE_DATABASE__AUTO_MIGRATE": "false",
        "PINHOLE_STORAGE__BACKEND": "s3",
        "PINHOLE_STORAGE__S3__ENDPOINT_URL": str(s3.endpoint_url),
        "PINHOLE_STORAGE__S3__BUCKET": bucket,
        "PINHOLE_STORAGE__S3__REGION": s3.region,
        "PINHOLE_STORAGE__S3__ACCESS_KEY_ID": str(s3.access_key_id),
        "PINHOLE_STORAGE__S3__SECRET_ACCESS_KEY": s3_server.secret_access_key,
        "PINHOLE_STORAGE__S3__PATH_STYLE": "true",
        "PINHOLE_REDIS__URL": REDIS_URL,
        "PINHOLE_REDIS__KEY_PREFIX": f"{name}:",
        "PINHOLE_RATE_LIMITS__RULES": json.dumps({"*": "off", "v2.status": f"{STATUS_LIMIT}/minute"}),
    }
    try:
        yield settings
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pinhole(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pinhole", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def pair(tmp_path: Path, shared_settings: dict[str, str]) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    with live_server(tmp_path / "a", **shared_settings) as a:
        _pinhole(a.env, "db", "upgrade")
        with live_server(tmp_path / "b", **shared_settings) as b:
            key = json.loads(_pinhole(a.env, "clients", "create", "--name", "two", "--json"))["apiKey"]
            ready = [httpx.get(f"{server.base}/readyz", timeout=10).json() for server in (a, b)]
            assert all("redis" in json.dumps(body) for body in ready), ready  # both really use Redis
            yield a, b, key


def test_upload_on_one_read_transform_delete_on_the_other(pair: tuple[LiveServer, LiveServer, str]) -> None:
    a, b, key = pair
    headers = {"X-API-Key": key}
    created = httpx.post(
        f"{a.base}/v2/images", headers=headers, files={"file": ("p.png", img.make_png(80, 60))}, timeout=30
    )
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]

    original = httpx.get(f"{b.base}/v2/images/{image_id}", timeout=30)
    assert original.status_code == 200
    img.assert_image(original.content, format="png", width=80, height=60)
    small = httpx.get(f"{b.base}/v2/images/{image_id}?w=40&format=webp", timeout=30)
    assert small.status_code == 200
    img.assert_image(small.content, format="webp", width=40, height=30)

    # A serves (and caches) the image; B deletes it; A must not serve it again.
    assert httpx.get(f"{a.base}/v2/images/{image_id}", timeout=30).status_code == 200
    assert httpx.delete(f"{b.base}/v2/images/{image_id}", headers=headers, timeout=30).status_code == 204
    after = httpx.get(f"{a.base}/v2/images/{image_id}", timeout=30)
    assert after.headers.get("x-pinhole-fallback") == "1", after.headers
    info = httpx.get(f"{a.base}/v2/images/{image_id}?info=true", headers=headers, timeout=30)
    assert info.status_code == 404


def test_a_new_variant_asked_of_both_is_rendered_once(
    pair: tuple[LiveServer, LiveServer, str], shared_settings: dict[str, str], s3_server: S3Server
) -> None:
    a, b, key = pair
    created = httpx.post(
        f"{a.base}/v2/images",
        headers={"X-API-Key": key},
        files={"file": ("big.jpg", img.make_jpeg(4000, 3000))},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    url = f"/v2/images/{created.json()['id']}?w=2500&format=webp&q=90"  # slow enough to render that both race
    bases = [a.base, b.base] * 4
    start = threading.Barrier(len(bases))

    def fetch(base: str) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=120) as client:
            client.get("/healthz")  # connected before the race starts
            start.wait()
            return client.get(url)

    with ThreadPoolExecutor(len(bases)) as pool:
        responses = list(pool.map(fetch, bases))
    assert [r.status_code for r in responses] == [200] * len(bases)
    assert len({r.headers["etag"] for r in responses}) == 1

    bucket = shared_settings["PINHOLE_STORAGE__S3__BUCKET"]
    versions = s3_server.client.list_object_versions(Bucket=bucket, Prefix="variants/").get("Versions", [])
    assert len(versions) == 1, [v["Key"] for v in versions]


def test_a_rate_limit_counts_requests_to_both(pair: tuple[LiveServer, LiveServer, str]) -> None:
    a, b, _ = pair
    answers = [httpx.get(f"{server.base}/v2/status", timeout=30) for server in [a, b, a, b, a]]
    assert [r.status_code for r in answers] == [200] * STATUS_LIMIT
    assert answers[-1].headers["x-ratelimit-remaining"] == "0"
    refused = httpx.get(f"{b.base}/v2/status", timeout=30)
    assert refused.status_code == 429
    assert "retry-after" in refused.headers


def test_a_resumable_upload_begun_on_one_is_finished_on_the_other(
    pair: tuple[LiveServer, LiveServer, str], tmp_path: Path
) -> None:
    a, b, key = pair
    photo = tmp_path / "resume.jpg"
    photo.write_bytes(img.make_jpeg(800, 600))
    half = photo.stat().st_size // 2
    with photo.open("rb") as stream:
        first = tus_client.TusClient(f"{a.base}/v2/uploads", headers={"X-API-Key": key}).uploader(
            file_stream=stream, chunk_size=half, metadata={"filename": "resume.jpg"}
        )
        first.upload(stop_at=half)  # A receives the first half, into the shared blob store
        assert first.offset == half
        path = str(first.url).removeprefix(a.base)
    with photo.open("rb") as stream:
        second = tus_client.TusClient(f"{b.base}/v2/uploads", headers={"X-API-Key": key}).uploader(
            file_stream=stream, url=f"{b.base}{path}"
        )
        assert second.offset == half  # B knows where A stopped (the state is in the shared database)
        second.upload()
    done = httpx.get(f"{a.base}{path}", headers={"X-API-Key": key}, timeout=30)
    assert done.status_code == 200, done.text
    assert (done.json()["width"], done.json()["height"], done.json()["originalName"]) == (800, 600, "resume.jpg")
    image = httpx.get(f"{a.base}/v2/images/{done.headers['pinhole-image-id']}", timeout=30)
    img.assert_image(image.content, format="jpeg", width=800, height=600)
