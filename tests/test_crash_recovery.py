"""A real `pinhole serve` killed with SIGKILL during concurrent uploads, then started again.

Every upload the server acknowledged (201) is still there, whole; the database passes its integrity check; and the
sweep of the restarted server removes what the kill left (received uploads and normalised originals in the temp
folder, originals stored before their transaction committed), so `pinhole store check` finds nothing left over.
Runs on the test stack: SQLite + local files, or PostgreSQL + the S3 server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinhole.settings import Settings
from pinhole.storage.files import TEMP_PREFIX
from tests.support import images as img
from tests.support.env import settings_env

pytestmark = pytest.mark.slow

UPLOADS = 300
CONCURRENCY = 24
KILL_AFTER = 60  # acknowledged uploads before the kill: the rest are in flight or not sent yet
GRACE_SECONDS = 2
TEMP_NAMES = ("upload-", "original-")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str

    def kill(self) -> None:
        """SIGKILL to the whole server (granian's parent and its workers share the process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[Server]:
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pinhole", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so one killpg reaches every worker
        )
    server = Server(proc, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("server did not start:\n" + log.read_text())
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def pinhole(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pinhole", *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert not check or done.returncode == 0, done.stdout + done.stderr
    return done


def temp_files(settings: Settings) -> list[Path]:
    found = [p for p in settings.tmp_dir.glob("*") if p.name.startswith(TEMP_NAMES)]
    if settings.storage.backend == "local":
        found += list(settings.blob_root.rglob(f"{TEMP_PREFIX}*"))
    return found


def corpus() -> list[tuple[bytes, tuple[int, int]]]:
    """`UPLOADS` files with distinct bytes (no upload dedups onto another), large enough to be in flight for a
    while; the JPEGs carry EXIF, so pinhole writes a normalised copy (tmp/original-*) too. Made before the server
    starts, so the uploads keep it busy."""

    def one(index: int) -> tuple[bytes, tuple[int, int]]:
        size = (900 + index % 97, 700 + index // 97)
        return (img.make_jpeg(*size, seed=index) if index % 2 else img.make_png(*size)), size

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(UPLOADS)))


def upload_until_killed(server: Server, key: str, files: list[tuple[bytes, tuple[int, int]]]) -> dict[str, Any]:
    """Upload `files` from `CONCURRENCY` threads; SIGKILL once `KILL_AFTER` are acknowledged.
    Returns the acknowledged ones: image id -> (width, height)."""
    acknowledged: dict[str, tuple[int, int]] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def one(index: int) -> None:
        if killed.is_set():
            return
        data, size = files[index]
        try:
            response = httpx.post(
                f"{server.base}/v2/images",
                headers={"X-API-Key": key},
                files={"file": (f"f{index}", data)},
                timeout=60,
            )
        except httpx.TransportError:
            return  # the kill: never acknowledged
        if response.status_code == 201:
            with lock:
                acknowledged[response.json()["id"]] = size
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    server.kill()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(len(files))))
    assert killed.is_set(), f"only {len(acknowledged)} uploads were acknowledged; the kill never happened"
    return acknowledged


def store_check(env: dict[str, str]) -> dict[str, Any]:
    done = pinhole(env, "store", "check", "--json", "--grace-seconds", str(GRACE_SECONDS), check=False)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_a_killed_server_loses_no_acknowledged_upload_and_its_sweep_leaves_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | settings_env(settings)
    env |= {
        "PINHOLE_RATE_LIMITS__ENABLED": "false",
        "PINHOLE_STORAGE__SWEEP_GRACE_SECONDS": str(GRACE_SECONDS),
        "PINHOLE_IMAGING__THREADS": "2",
    }
    log = tmp_path / "server.log"
    pinhole(env, "db", "upgrade")
    key = json.loads(pinhole(env, "clients", "create", "--name", "crash", "--json").stdout)["apiKey"]

    files = corpus()
    with running(env, log) as server:
        acknowledged = upload_until_killed(server, key, files)
    assert "allocator: MALLOC_ARENA_MAX=2" in log.read_text()  # `pinhole serve` bounds memory by default
    left = temp_files(settings)
    before = store_check(env)
    print(f"after the kill: {len(acknowledged)} acknowledged, {len(left)} temp files, {len(before['orphans'])} orphans")
    # What the kill leaves varies from run to run (none to a few dozen temp files and orphans): the sweep must
    # clear whatever it is. tests/services/test_store_sweep.py covers each kind of leftover deterministically.

    time.sleep(GRACE_SECONDS + 0.5)  # what the kill left is now older than the grace period
    with running(env, log) as server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (temp_files(settings) or not (after := store_check(env))["ok"]):
            time.sleep(1)  # the start-up sweep runs in the background
        assert temp_files(settings) == []
        after = store_check(env)
        assert after["ok"], after
        assert (after["orphans"], after["variantOrphans"], after["missing"]) == ([], [], []), after
        assert (after["tempFiles"], after["storeTempFiles"]) == (0, 0), after

        with httpx.Client(base_url=server.base, timeout=30) as client:
            for image_id, (width, height) in acknowledged.items():
                response = client.get(f"/v2/images/{image_id}")
                assert response.status_code == 200, (image_id, response.status_code)
                assert "x-pinhole-fallback" not in response.headers, image_id
                img.assert_image(response.content, format=img.format_of(response.content), width=width, height=height)

    if settings.is_sqlite:
        database = settings.database_url.removeprefix("sqlite+aiosqlite:///")
        with contextlib.closing(sqlite3.connect(database)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
