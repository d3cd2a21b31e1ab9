"""Uploads stream to disk: big bodies are not held in memory, and interrupted ones leave nothing behind."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.types import Message, Scope

from tests.uploads.bodies import CONTENT_TYPE, HEADERS, body, chunked, part
from tests.uploads.conftest import Send

pytestmark = pytest.mark.anyio

KB, MB = 1024, 1024 * 1024
BIG_LIMITS = {"max_file_bytes": 32 * MB}


def leftovers(tmp_dir: Path) -> list[Path]:
    return list(tmp_dir.iterdir()) if tmp_dir.exists() else []


def big_body(size: int) -> tuple[bytes, str]:
    payload = bytes(range(256)) * (size // 256)
    return body(part("image", payload, filename="big.bin")), hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("limits", [BIG_LIMITS])
async def test_large_upload_is_not_held_in_memory(send: Send) -> None:
    data, expected = big_body(20 * MB)

    tracemalloc.start()
    try:
        response = await send(content=chunked(data, 64 * KB), headers=HEADERS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 200
    assert response.json()["files"][0]["sha256"] == expected
    assert peak < 4 * MB, peak


@pytest.mark.parametrize("limits", [BIG_LIMITS])
async def test_file_grows_on_disk_while_the_body_arrives(send: Send, tmp_dir: Path) -> None:
    data, _ = big_body(20 * MB)
    on_disk: list[int] = []

    async def watched() -> AsyncIterator[bytes]:
        async for chunk in chunked(data, 64 * KB):
            on_disk.append(sum(path.stat().st_size for path in leftovers(tmp_dir)))
            yield chunk

    response = await send(content=watched(), headers=HEADERS)

    assert response.status_code == 200
    assert on_disk[len(on_disk) // 2] > 8 * MB
    assert on_disk[-1] > 18 * MB


@pytest.mark.parametrize("limits", [BIG_LIMITS])
async def test_12_mb_upload_arrives_whole(send: Send) -> None:
    # Speed is measured in bench/, not asserted here.
    data, expected = big_body(12 * MB)

    response = await send(content=chunked(data, 64 * KB), headers=HEADERS)

    assert response.json()["files"][0]["sha256"] == expected


def asgi_scope() -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", CONTENT_TYPE.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("pinhole.test", 80),
    }


@pytest.mark.parametrize("limits", [BIG_LIMITS])
async def test_client_disconnect_mid_upload(app: Starlette, tmp_dir: Path) -> None:
    incoming = [{"type": "http.request", "body": part("image", b"x" * 2 * MB, filename="a"), "more_body": True}]
    files_before_disconnect: list[int] = []
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop()
        files_before_disconnect.append(len(leftovers(tmp_dir)))
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(asgi_scope(), receive, send)

    assert sent[0]["status"] == 400
    assert files_before_disconnect == [1]
    assert leftovers(tmp_dir) == []


@pytest.mark.parametrize("limits", [BIG_LIMITS])
async def test_cancelled_upload_leaves_no_temp_file(app: Starlette, tmp_dir: Path) -> None:
    incoming = [{"type": "http.request", "body": part("image", b"x" * 2 * MB, filename="a"), "more_body": True}]
    file_written = anyio.Event()

    async def receive() -> Message:
        if incoming:
            return incoming.pop()
        if leftovers(tmp_dir):
            file_written.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        raise AssertionError(f"nothing should be sent: {message}")

    async with anyio.create_task_group() as group:
        group.start_soon(app, asgi_scope(), receive, send)
        await file_written.wait()
        group.cancel_scope.cancel()

    assert leftovers(tmp_dir) == []
