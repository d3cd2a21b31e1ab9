"""Resumable uploads (`/v2/uploads`, tus 1.0) with a real tus client (tuspy) over real HTTP, and the protocol's
edge cases (offsets, versions, content types, checksums, expiry, termination) driven header by header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from pinhole.db.models import Client, Image, ResumableUpload, utcnow
from pinhole.runtime import Runtime
from pinhole.storage.keys import PARTIAL_ROOT
from pinhole.storage.partial import PartialUploads
from tests.api.v2helpers import stored_files
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.appserver import serve_app

pytestmark = pytest.mark.anyio

TUS = {"Tus-Resumable": "1.0.0"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def create(http: httpx.AsyncClient, headers: dict[str, str], length: int, meta: str | None = None) -> str:
    extra = {"Upload-Metadata": meta} if meta is not None else {}
    response = await http.post("/v2/uploads", headers=TUS | headers | {"Upload-Length": str(length)} | extra)
    assert response.status_code == 201, response.text
    assert response.headers["tus-resumable"] == "1.0.0"
    return urlsplit(response.headers["location"]).path


async def patch(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], offset: int, data: bytes, **extra: str
) -> httpx.Response:
    sent = TUS | headers | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    return await http.patch(url, headers=sent | extra, content=data)


async def partial_keys(runtime: Runtime) -> list[str]:
    return [key async for key in runtime.store.list_keys(PARTIAL_ROOT)]


def tus_upload(url: str, headers: dict[str, str], path: Path, **options: Any) -> str:
    """A whole upload with tuspy (blocking; run it in a thread): the upload URL."""
    with path.open("rb") as stream:  # tuspy leaves files it opened itself to the garbage collector
        uploader = tus_client.TusClient(url, headers=headers).uploader(file_stream=stream, **options)
        uploader.upload()
    return str(uploader.url)


async def test_tuspy_upload_becomes_an_image_with_its_metadata(
    app: FastAPI, runtime: Runtime, tenant: ApiClient, tmp_path: Path
) -> None:
    photo = tmp_path / "beach.jpg"
    photo.write_bytes(img.make_jpeg(640, 480))
    meta = {"filename": "beach.jpg", "description": "At the sea", "tags": "Beach, sea", "isPrivate": "true"}
    async with serve_app(app) as base:
        url = await anyio.to_thread.run_sync(
            lambda: tus_upload(
                f"{base}/v2/uploads",
                tenant.headers("alice"),
                photo,
                metadata=meta,
                chunk_size=photo.stat().st_size // 3 + 1,  # three PATCHes, so three pieces put together
                upload_checksum=True,
            )
        )
        async with httpx.AsyncClient() as http:
            head = await http.head(url, headers=TUS | tenant.headers("alice"))
            got = await http.get(url, headers=tenant.headers("alice"))
    assert head.status_code == 200
    assert head.headers["upload-offset"] == head.headers["upload-length"] == str(photo.stat().st_size)
    image_id = head.headers["pinhole-image-id"]
    assert got.status_code == 200
    assert got.headers["pinhole-image-id"] == image_id
    body = got.json()
    assert (body["id"], body["width"], body["height"], body["format"]) == (image_id, 640, 480, "jpeg")
    assert (body["originalName"], body["description"], body["tags"]) == ("beach.jpg", "At the sea", ["beach", "sea"])
    assert (body["isPrivate"], body["externalUserId"]) == (True, "alice")
    assert await partial_keys(runtime) == []  # the pieces went once the file was whole
    assert not [p for p in runtime.settings.tmp_dir.rglob("*") if p.is_file()]


def cut_patch(base: str, path: str, headers: dict[str, str], data: bytes, announced: int) -> None:
    """A PATCH that announces `announced` bytes, sends only `data`, and drops the connection."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    assert host is not None
    assert port is not None
    lines = [
        f"PATCH {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Tus-Resumable: 1.0.0",
        "Upload-Offset: 0",
        "Content-Type: application/offset+octet-stream",
        f"Content-Length: {announced}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection((host, port)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        sock.shutdown(socket.SHUT_WR)


async def test_a_cut_connection_keeps_what_arrived_and_tuspy_resumes(
    app: FastAPI, runtime: Runtime, tenant: ApiClient, tmp_path: Path
) -> None:
    data = img.make_png(300, 200)
    photo = tmp_path / "big.png"
    photo.write_bytes(data)
    half = len(data) // 2
    async with serve_app(app) as base, httpx.AsyncClient(base_url=base) as http:
        url = await create(http, tenant.headers(), len(data), f"filename {b64('big.png')}")
        await anyio.to_thread.run_sync(lambda: cut_patch(base, url, tenant.headers(), data[:half], len(data)))
        with anyio.fail_after(60):  # the server notices the cut, then records the bytes that came
            while int((await http.head(url, headers=TUS | tenant.headers())).headers["upload-offset"]) < half:
                await anyio.sleep(0.05)
        head = await http.head(url, headers=TUS | tenant.headers())
        assert head.headers["upload-offset"] == str(half)
        assert "pinhole-image-id" not in head.headers

        def resume() -> int:
            with photo.open("rb") as stream:
                uploader = tus_client.TusClient(f"{base}/v2/uploads", headers=tenant.headers()).uploader(
                    file_stream=stream, url=f"{base}{url}"
                )
                resumed_from = uploader.offset  # tuspy asked the server (HEAD) where to go on from
                uploader.upload()
            return int(resumed_from)

        assert await anyio.to_thread.run_sync(resume) == half
        got = await http.get(url, headers=tenant.headers())
    assert got.status_code == 200, got.text
    assert (got.json()["width"], got.json()["height"], got.json()["originalName"]) == (300, 200, "big.png")
    assert await partial_keys(runtime) == []


async def test_options_advertise_the_protocol(http: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await http.options("/v2/uploads")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert response.headers["tus-max-size"] == str(runtime.settings.uploads.max_file_bytes)
    assert set(response.headers["tus-checksum-algorithm"].split(",")) == {"sha1", "sha256", "sha512", "md5", "crc32"}


def checksum_header(algorithm: str, data: bytes) -> str:
    """`Upload-Checksum` computed here independently of the server (crc32: zlib's, 4 bytes big-endian, as tusd)."""
    if algorithm == "crc32":
        digest = (binascii.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    else:
        digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm} {base64.b64encode(digest).decode()}"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512", "md5", "crc32"])
async def test_every_advertised_checksum_algorithm_is_checked(
    http: httpx.AsyncClient, tenant: ApiClient, algorithm: str
) -> None:
    data = img.make_jpeg(64, 48)
    url = await create(http, tenant.headers(), len(data))
    wrong = await patch(http, url, tenant.headers(), 0, data, **{"Upload-Checksum": checksum_header(algorithm, b"x")})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (460, "checksum_mismatch")
    right = await patch(http, url, tenant.headers(), 0, data, **{"Upload-Checksum": checksum_header(algorithm, data)})
    assert right.status_code == 204, right.text
    assert right.headers["pinhole-image-id"]


async def create_with(
    http: httpx.AsyncClient, headers: dict[str, str], length: int, body: bytes, **extra: str
) -> httpx.Response:
    sent = TUS | headers | {"Upload-Length": str(length), "Content-Type": "application/offset+octet-stream"}
    return await http.post("/v2/uploads", headers=sent | extra, content=body)


async def test_creation_with_upload_takes_the_first_bytes(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    data = img.make_png(120, 80)
    created = await create_with(
        http, tenant.headers(), len(data), data[:500], **{"Upload-Metadata": f"filename {b64('p.png')}"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == "500"
    url = urlsplit(created.headers["location"]).path
    rest = await patch(http, url, tenant.headers(), 500, data[500:])
    assert rest.status_code == 204
    got = await http.get(url, headers=tenant.headers())
    assert (got.status_code, got.json()["width"], got.json()["originalName"]) == (200, 120, "p.png")


async def test_creation_with_the_whole_file_makes_the_image_at_once(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    data = img.make_jpeg(90, 60)
    created = await create_with(
        http, tenant.headers(), len(data), data, **{"Upload-Checksum": checksum_header("crc32", data)}
    )
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == str(len(data))
    image_id = created.headers["pinhole-image-id"]
    info = await http.get(f"/v2/images/{image_id}", params={"info": "1"}, headers=tenant.headers())
    assert (info.json()["width"], info.json()["height"]) == (90, 60)


async def test_creation_with_bytes_that_fail_their_checksum_keeps_the_upload_empty(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = img.make_jpeg(90, 60)
    created = await create_with(
        http, tenant.headers(), len(data), data, **{"Upload-Checksum": checksum_header("md5", b"other")}
    )
    assert (created.status_code, created.headers["upload-offset"]) == (201, "0")
    assert "pinhole-image-id" not in created.headers
    assert await partial_keys(runtime) == []
    url = urlsplit(created.headers["location"]).path
    resent = await patch(http, url, tenant.headers(), 0, data)
    assert resent.status_code == 204
    assert resent.headers["pinhole-image-id"]


async def test_creation_with_upload_refuses_more_bytes_than_announced_and_a_bad_checksum_header(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    data = img.make_jpeg(40, 30)
    too_many = await create_with(http, tenant.headers(), 10, data)
    assert too_many.status_code == 400
    unknown = await create_with(http, tenant.headers(), len(data), data, **{"Upload-Checksum": "sha3 AAAA"})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "Upload-Checksum")


async def test_creation_defer_length_is_refused(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    """Not offered: the size limit and quotas are checked at creation, from the length."""
    deferred = await http.post("/v2/uploads", headers=TUS | tenant.headers() | {"Upload-Defer-Length": "1"})
    assert (deferred.status_code, deferred.json()["error"]["field"]) == (400, "Upload-Length")


async def test_creation_checks_the_size_limit_from_upload_length(
    app: FastAPI, runtime: Runtime, tenant: ApiClient, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (runtime.settings.uploads.max_file_bytes + 1))
    async with serve_app(app) as base:
        with pytest.raises(TusCommunicationError) as caught:
            await anyio.to_thread.run_sync(lambda: tus_upload(f"{base}/v2/uploads", tenant.headers(), big))
    assert caught.value.status_code == 413
    async with runtime.db.reader() as session:
        assert list(await session.scalars(select(ResumableUpload))) == []


async def test_creation_checks_the_storage_quota(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    async with runtime.db.writer() as session:
        client = await session.get(Client, tenant.id)
        assert client is not None
        client.quota_bytes = 1000
    response = await http.post("/v2/uploads", headers=TUS | tenant.headers() | {"Upload-Length": "5000"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "quota_exceeded"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Tus-Resumable": "0.2.2", "Upload-Length": "10"}, 412, "unsupported_version"),
        ({"Upload-Length": "10"}, 412, "unsupported_version"),
        (TUS, 400, "invalid_input"),  # no Upload-Length
        (TUS | {"Upload-Defer-Length": "1"}, 400, "invalid_input"),
        (TUS | {"Upload-Length": "-5"}, 400, "invalid_input"),
        (TUS | {"Upload-Length": "0"}, 400, "invalid_input"),
        (TUS | {"Upload-Length": "10", "Upload-Metadata": "filename not-base64!"}, 400, "invalid_input"),
        (TUS | {"Upload-Length": "10", "Upload-Metadata": "isPrivate " + b64("maybe")}, 400, "invalid_input"),
        (TUS | {"Upload-Length": "10", "Upload-Metadata": "albumId " + b64("nope")}, 404, "album_not_found"),
    ],
)
async def test_bad_creations_are_refused(
    http: httpx.AsyncClient, tenant: ApiClient, headers: dict[str, str], status: int, code: str
) -> None:
    response = await http.post("/v2/uploads", headers=headers | tenant.headers("alice"))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["tus-resumable"] == "1.0.0"
    if status == 412:
        assert response.headers["tus-version"] == "1.0.0"


async def test_creation_needs_credentials(http: httpx.AsyncClient) -> None:
    response = await http.post("/v2/uploads", headers=TUS | {"Upload-Length": "10"})
    assert response.status_code == 401


async def test_patch_protocol_errors(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    data = img.make_jpeg(64, 48)
    url = await create(http, tenant.headers(), len(data))
    wrong_offset = await patch(http, url, tenant.headers(), 5, data)
    assert (wrong_offset.status_code, wrong_offset.json()["error"]["code"]) == (409, "offset_mismatch")
    wrong_type = await http.patch(
        url, headers=TUS | tenant.headers() | {"Upload-Offset": "0", "Content-Type": "image/jpeg"}, content=data
    )
    assert wrong_type.status_code == 415
    bad_sum = await patch(
        http, url, tenant.headers(), 0, data, **{"Upload-Checksum": "sha1 " + base64.b64encode(b"x" * 20).decode()}
    )
    assert (bad_sum.status_code, bad_sum.json()["error"]["code"]) == (460, "checksum_mismatch")
    unknown_sum = await patch(http, url, tenant.headers(), 0, data, **{"Upload-Checksum": "sha3-256 AAAA"})
    assert unknown_sum.status_code == 400
    too_much = await patch(http, url, tenant.headers(), 0, data + b"extra")
    assert too_much.status_code == 400
    head = await http.head(url, headers=TUS | tenant.headers())
    assert head.headers["upload-offset"] == "0"  # none of the refused bytes were kept
    assert await partial_keys(runtime) == []
    good_sum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    done = await patch(http, url, tenant.headers(), 0, data, **{"Upload-Checksum": f"sha256 {good_sum}"})
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(data))
    assert "upload-expires" in done.headers
    assert done.headers["pinhole-image-id"]
    again = await patch(http, url, tenant.headers(), len(data), b"x")
    assert again.status_code == 409


async def test_pieces_then_head_reports_progress(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    data = img.make_webp(200, 100)
    meta = f"filename {b64('w.webp')},tags {b64('a,b')}"
    url = await create(http, tenant.headers("bob"), len(data), meta)
    first = await patch(http, url, tenant.headers("bob"), 0, data[:100])
    assert (first.status_code, first.headers["upload-offset"]) == (204, "100")
    head = await http.head(url, headers=TUS | tenant.headers("bob"))
    assert (head.headers["upload-offset"], head.headers["upload-length"]) == ("100", str(len(data)))
    assert head.headers["upload-metadata"] == meta
    assert head.headers["cache-control"] == "no-store"
    pending = await http.get(url, headers=tenant.headers("bob"))
    assert pending.status_code == 202
    assert pending.json()["offset"] == 100
    assert len(await partial_keys(runtime)) == 1
    last = await patch(http, url, tenant.headers("bob"), 100, data[100:])
    assert last.status_code == 204
    got = await http.get(url, headers=tenant.headers("bob"))
    assert (got.json()["format"], got.json()["tags"], got.json()["originalName"]) == ("webp", ["a", "b"], "w.webp")


async def test_an_upload_is_only_its_creators(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    url = await create(http, tenant.headers("alice"), 100)
    for headers in (tenant.headers("mallory"), tenant.headers(), other_tenant.headers("alice")):
        assert (await http.head(url, headers=TUS | headers)).status_code == 404
        assert (await patch(http, url, headers, 0, b"x")).status_code == 404
        assert (await http.delete(url, headers=TUS | headers)).status_code == 404
    assert (await http.head(url, headers=TUS | tenant.headers("alice"))).status_code == 200


async def test_termination_removes_the_upload_and_its_pieces(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    url = await create(http, tenant.headers(), 1000)
    assert (await patch(http, url, tenant.headers(), 0, b"a" * 400)).status_code == 204
    assert len(await partial_keys(runtime)) == 1
    deleted = await http.delete(url, headers=TUS | tenant.headers())
    assert deleted.status_code == 204
    assert (await http.head(url, headers=TUS | tenant.headers())).status_code == 404
    assert await partial_keys(runtime) == []


async def test_a_file_that_is_not_an_image_ends_the_upload(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = b"just some text, certainly not an image" * 10
    url = await create(http, tenant.headers(), len(data))
    response = await patch(http, url, tenant.headers(), 0, data)
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_format")
    assert (await http.head(url, headers=TUS | tenant.headers())).status_code == 404
    assert await partial_keys(runtime) == []
    async with runtime.db.reader() as session:
        assert list(await session.scalars(select(Image))) == []


async def test_expired_uploads_are_swept(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    abandoned = await create(http, tenant.headers(), 1000)
    assert (await patch(http, abandoned, tenant.headers(), 0, b"a" * 300)).status_code == 204
    data = img.make_jpeg(32, 32)
    finished = await create(http, tenant.headers(), len(data))
    assert (await patch(http, finished, tenant.headers(), 0, data)).status_code == 204
    orphan = PartialUploads(runtime.store)
    orphan_file = runtime.settings.tmp_dir / "orphan"
    orphan_file.write_bytes(b"left behind by a crash")
    await orphan.add_piece("0" * 32, 0, orphan_file)
    fresh = await create(http, tenant.headers(), 1000)
    assert (await patch(http, fresh, tenant.headers(), 0, b"b" * 10)).status_code == 204

    first = await runtime.resumable.sweep_once()
    assert (first.expired, first.orphans) == (0, 1)  # nothing has expired yet; the crash's piece has no row
    later = utcnow() + runtime.resumable.expiry + timedelta(seconds=1)
    runtime.resumable.clock = lambda: later
    assert (await http.head(abandoned, headers=TUS | tenant.headers())).status_code == 410
    async with runtime.db.writer() as session:  # the fresh one was touched "later": it is not abandoned
        row = await session.get(ResumableUpload, fresh.rpartition("/")[2])
        assert row is not None
        row.expires_at = later + timedelta(hours=1)

    result = await runtime.resumable.sweep_once()
    assert (result.expired, result.orphans) == (2, 0)  # the abandoned and the finished one
    assert (await http.head(abandoned, headers=TUS | tenant.headers())).status_code == 404
    assert (await http.head(finished, headers=TUS | tenant.headers())).status_code == 404
    assert (await http.head(fresh, headers=TUS | tenant.headers())).status_code == 200
    assert [key.split("/")[1] for key in await partial_keys(runtime)] == [fresh.rpartition("/")[2]]
    async with runtime.db.reader() as session:
        assert len(list(await session.scalars(select(Image)))) == 1  # the finished upload's image stays


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("settings_overrides", [{"uploads": {"resumable_sweep_seconds": 0.05}}], indirect=True)
async def test_the_sweep_runs_in_the_background(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    url = await create(http, tenant.headers(), 1000)
    assert (await patch(http, url, tenant.headers(), 0, b"a" * 300)).status_code == 204
    later = utcnow() + runtime.resumable.expiry + timedelta(seconds=1)
    runtime.resumable.clock = lambda: later
    seen = runtime.resumable.sweeps
    with anyio.fail_after(60):
        while runtime.resumable.sweeps < seen + 2:  # one full sweep after the clock moved
            await anyio.sleep(0.02)
    assert (await http.head(url, headers=TUS | tenant.headers())).status_code == 404
    assert await partial_keys(runtime) == []


async def test_nothing_is_left_behind_after_a_finished_upload(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = img.make_jpeg(50, 40)
    url = await create(http, tenant.headers(), len(data))
    for start in range(0, len(data), 500):
        assert (await patch(http, url, tenant.headers(), start, data[start : start + 500])).status_code == 204
    files = stored_files(runtime.settings)
    assert [p for p in files if "partial" in p.parts] == []
    assert [p for p in files if p.is_relative_to(runtime.settings.tmp_dir)] == []


async def test_a_complete_upload_left_unfinished_is_finished_when_asked(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    data = img.make_jpeg(40, 30)
    url = await create(http, tenant.headers(), len(data), f"filename {b64('late.jpg')}")
    upload_id = url.rpartition("/")[2]
    # What an instance that stopped between recording the last piece and the ingest leaves: every byte, no image.
    source = runtime.settings.tmp_dir / "piece"
    source.write_bytes(data)
    name = await PartialUploads(runtime.store).add_piece(upload_id, 0, source)

    async def set_row(**values: Any) -> None:
        async with runtime.db.writer() as session:
            row = await session.get(ResumableUpload, upload_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)

    await set_row(received=len(data), pieces=json.dumps([name]), finishing_until=utcnow() + timedelta(minutes=5))
    busy = await http.head(url, headers=TUS | tenant.headers())  # another instance holds the lease: left to it
    assert (busy.status_code, busy.headers["upload-offset"]) == (200, str(len(data)))
    assert "pinhole-image-id" not in busy.headers

    await set_row(finishing_until=utcnow() - timedelta(seconds=1))  # its lease lapsed: that instance is gone
    head = await http.head(url, headers=TUS | tenant.headers())
    assert head.status_code == 200
    got = await http.get(url, headers=tenant.headers())
    assert got.json()["id"] == head.headers["pinhole-image-id"]
    assert got.json()["originalName"] == "late.jpg"
    assert await partial_keys(runtime) == []


async def test_the_album_in_the_metadata_gets_the_image(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    made = await http.post("/v2/albums", headers=tenant.headers("alice"), json={"name": "Resumed"})
    assert made.status_code == 201, made.text
    album_id = made.json()["id"]
    data = img.make_jpeg(30, 20)
    url = await create(http, tenant.headers("alice"), len(data), f"albumId {b64(album_id)}")
    done = await patch(http, url, tenant.headers("alice"), 0, data)
    assert done.status_code == 204, done.text
    listed = await http.get(f"/v2/albums/{album_id}/images", headers=tenant.headers("alice"))
    assert [item["id"] for item in listed.json()["data"]] == [done.headers["pinhole-image-id"]]
    # Someone else's album is refused when the upload is created, before any byte is sent.
    refused = await http.post(
        "/v2/uploads",
        headers=TUS | tenant.headers("bob") | {"Upload-Length": "10", "Upload-Metadata": f"albumId {b64(album_id)}"},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "album_not_found")
