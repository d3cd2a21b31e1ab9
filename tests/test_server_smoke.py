"""A real `pinhole serve` process on a free port: migrate on start, upload, transform, cache headers, shut down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.images import assert_image, make_jpeg

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | {"PINHOLE_DATA_DIR": str(tmp_path)}
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinhole", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v2/status", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start:\n" + (tmp_path / "server.log").read_text())
        created = subprocess.run(
            [sys.executable, "-m", "pinhole", "clients", "create", "--name", "smoke", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        yield base, {"X-API-Key": json.loads(created.stdout)["apiKey"]}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_real_server_round_trip(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    with httpx.Client(base_url=base, timeout=30) as client:
        uploaded = client.post("/v2/images", headers=headers, files={"file": ("p.jpg", make_jpeg(640, 480))})
        assert uploaded.status_code == 201, uploaded.text
        image_id = uploaded.json()["id"]
        original = client.get(f"/v2/images/{image_id}")
        assert original.status_code == 200
        assert int(original.headers["content-length"]) == len(original.content)
        variant = client.get(f"/v2/images/{image_id}", params={"w": 320, "format": "webp"})
        assert_image(variant.content, format="webp", width=320, height=240)
        again = client.get(
            f"/v2/images/{image_id}",
            params={"w": 320, "format": "webp"},
            headers={"If-None-Match": variant.headers["etag"]},
        )
        assert again.status_code == 304
        head = client.head(f"/v2/images/{image_id}", params={"w": 320, "format": "webp"})
        assert head.headers["content-length"] == variant.headers["content-length"]
        assert client.get("/openapi.json").status_code == 200
        assert client.delete(f"/v2/images/{image_id}", headers=headers).status_code == 204
