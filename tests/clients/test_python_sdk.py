"""The Python SDK against the real app in-process (AsyncClient over ASGI) and a real server (Client over TCP)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pinhole.imaging.options import OutputLimits, make_transform
from pinhole_client import AsyncClient, Client, NotFound, Signer, Transform, Unauthorized, tus
from pinhole_client.uploads import open_source
from tests.conftest import ApiClient
from tests.support.images import assert_image, make_jpeg, make_png
from tests.support.server import Server, running_server

SIGNING_KEY = "k1:" + "s" * 40
OTHER_KEY = "k1:" + "o" * 40


@pytest.fixture
async def sdk(app: FastAPI, tenant: ApiClient) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("http://testserver", api_key=tenant.key, transport=transport) as client:
        yield client


@pytest.mark.anyio
async def test_upload_list_update_delete_in_process(sdk: AsyncClient) -> None:
    seen: list[tuple[int, int]] = []
    image = await sdk.upload(
        make_jpeg(320, 200), filename="a.jpg", tags=["beach"], progress=lambda s, t: seen.append((s, t))
    )
    assert (image["width"], image["height"], image["tags"]) == (320, 200, ["beach"])
    assert seen
    assert seen[-1][0] == seen[-1][1]
    updated = await sdk.images_update(image["id"], body={"description": "dawn"})
    assert updated["description"] == "dawn"
    variant = await sdk.download(image["id"], w=160, format="webp")
    assert_image(variant, format="webp", width=160, height=100)
    await sdk.images_delete(image["id"])
    with pytest.raises(NotFound):  # the server's fallback placeholder for a missing image is not the image
        await sdk.download(image["id"])
    with pytest.raises(NotFound) as caught:
        await sdk.images_update(image["id"], body={"description": "gone"})
    assert caught.value.code == "image_not_found"
    assert caught.value.status == 404


@pytest.mark.anyio
async def test_cursor_iteration_yields_every_image_once(sdk: AsyncClient) -> None:
    ids = {(await sdk.upload(make_png(8 + n, 8), filename=f"{n}.png"))["id"] for n in range(5)}
    found = [image["id"] async for image in sdk.iter_images(limit=2)]
    assert sorted(found) == sorted(ids)


@pytest.mark.anyio
async def test_any_listing_iterates_every_page(app: FastAPI, tenant: ApiClient) -> None:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("http://testserver", api_key=tenant.key, user_id="alice", transport=transport) as sdk:
        albums = {(await sdk.albums_create(body={"name": f"album {n}"}))["id"] for n in range(3)}
        assert {album["id"] async for album in sdk.iterate(sdk.albums_list, limit=2)} == albums


@pytest.mark.anyio
async def test_a_bad_key_is_a_typed_error(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("http://testserver", api_key="ph_wrong", transport=transport) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.images_list()
    assert caught.value.code
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "options",
    [
        {"w": 800, "format": "jpg"},
        {"w": 800, "h": 600, "fit": "cover", "q": 70, "format": "webp"},
        {"h": 300, "fit": "cover", "enlarge": True},
        {"w": 100, "q": 50, "format": "png"},
        {"thumb": True},
        {"format": "gif", "q": 10},
        {},
    ],
)
def test_the_sdk_canonical_string_is_the_servers(options: dict[str, object]) -> None:
    limits = OutputLimits(max_width=8192, max_height=8192, max_pixels=50_000_000)
    w, h, fit = options.get("w"), options.get("h"), options.get("fit")
    if options.get("thumb"):
        w, h, fit = w or 256, h or 256, fit or "cover"
    server = make_transform(
        width=w,  # type: ignore[arg-type]
        height=h,  # type: ignore[arg-type]
        fit=fit,  # type: ignore[arg-type]
        quality=options.get("q"),  # type: ignore[arg-type]
        format=options.get("format"),  # type: ignore[arg-type]
        enlarge=bool(options.get("enlarge")),
        limits=limits,
    )
    assert Transform.of(**options).canonical() == server.canonical()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"PINHOLE_SIGNING__MODE": "anonymous", "PINHOLE_SIGNING__KEYS": f'["{SIGNING_KEY}"]'}
    with running_server(tmp_path_factory.mktemp("sdk-server"), env) as running:
        yield running


@pytest.mark.slow
def test_against_a_real_server_signed_urls_work_and_other_keys_do_not(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(make_jpeg(640, 480))
    with Client(server.url, api_key=server.api_key, signing_key=SIGNING_KEY) as client:
        image = client.upload(path, tags=["x"])
        assert [found["id"] for found in client.iter_images()] == [image["id"]]
        signed = client.url(image["id"], w=320, format="webp", expires_in=3600)
        unsigned = client.url(image["id"], w=320, format="webp")
    forged = Client(server.url, signing_key=OTHER_KEY).url(image["id"], w=320, format="webp", sign=True)
    assert "sig=" in forged
    with httpx.Client(timeout=30) as stranger:
        assert_image(stranger.get(signed).content, format="webp", width=320, height=240)
        assert stranger.get(unsigned).status_code in (401, 403)
        refused = stranger.get(forged)
        assert refused.status_code in (401, 403)
        assert refused.json()["error"]["code"]


def test_signer_refuses_short_keys() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Signer.parse("k1:short")
    assert Signer.parse("k1:" + secrets.token_hex(32)).key_id == "k1"


class _Stop(Exception):
    pass


@pytest.mark.slow
def test_resumable_upload_through_tus(server: Server) -> None:
    """Uploads go through tus when the server offers it and resume from the server's offset after a break."""
    data = make_jpeg(1600, 1200)
    with Client(server.url, api_key=server.api_key) as client:
        assert client.supports_tus(), "pinhole serves tus at /v2/uploads: the SDK must see it"
        started: list[str] = []

        def stop_after_first_chunk(sent: int, total: int) -> None:
            if 64 * 1024 < sent < total:  # the first chunk went out; break while reading the second
                raise _Stop

        name, reader, _ = open_source(data, "big.jpg", stop_after_first_chunk)
        with pytest.raises(_Stop), reader:
            tus.upload(client.http, reader, {"filename": name}, on_created=started.append, chunk_bytes=64 * 1024)
        image = client.upload(data, filename="big.jpg", resume_url=started[0])
        assert (image["width"], image["height"]) == (1600, 1200)


def _stop_after_first_chunk(sent: int, total: int) -> None:
    if 64 * 1024 < sent < total:  # the first chunk went out; break while reading the second
        raise _Stop


@pytest.mark.anyio
async def test_async_resumable_upload_in_process_resumes_from_the_servers_offset(sdk: AsyncClient) -> None:
    data = make_jpeg(1600, 1200)
    assert len(data) > 3 * 64 * 1024
    assert await sdk.supports_tus()
    started: list[str] = []
    name, reader, _ = open_source(data, "big.jpg", _stop_after_first_chunk)
    with pytest.raises(_Stop), reader:
        await tus.upload_async(sdk.http, reader, {"filename": name}, on_created=started.append, chunk_bytes=64 * 1024)
    status = await sdk.http.head(started[0], headers={"Tus-Resumable": tus.VERSION})
    assert int(status.headers["Upload-Offset"]) == 64 * 1024  # one chunk arrived before the break
    seen: list[int] = []
    image = await sdk.upload(data, filename="big.jpg", resume_url=started[0], progress=lambda s, t: seen.append(s))
    assert (image["width"], image["height"]) == (1600, 1200)
    assert seen[0] > 64 * 1024  # resumed: the first chunk was not read again
    assert seen[-1] == len(data)


@pytest.mark.slow
@pytest.mark.anyio
async def test_async_client_uploads_through_tus_against_a_real_server(server: Server) -> None:
    data = make_jpeg(1600, 1200)
    seen: list[int] = []
    async with AsyncClient(server.url, api_key=server.api_key) as client:
        assert await client.supports_tus()
        urls: list[str] = []
        image = await client.upload(
            data, filename="async.jpg", resumable=True, on_resumable=urls.append, progress=lambda s, t: seen.append(s)
        )
        assert (image["width"], image["height"]) == (1600, 1200)
        assert urls
        assert urls[0].startswith(server.url)
        assert image["id"] in [found["id"] async for found in client.iter_images()]
    assert seen[-1] == len(data)
