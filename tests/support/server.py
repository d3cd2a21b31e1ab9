"""A real `pinhole serve` process on a free port for tests of clients (the SDKs, the client CLI)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    url: str
    api_key: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/v2/status", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError("server did not start:\n" + log.read_text())


@contextlib.contextmanager
def running_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `pinhole serve` on `data_dir` (SQLite, local blobs) with one API client; stop it on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    env |= {"PINHOLE_DATA_DIR": str(data_dir)} | (extra_env or {})
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "pinhole", "serve", "--port", str(port), "--workers", "1"]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc, log_path)
            created = subprocess.run(
                [sys.executable, "-m", "pinhole", "clients", "create", "--name", "sdk", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            yield Server(url=url, api_key=json.loads(created.stdout)["apiKey"], env=env)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
