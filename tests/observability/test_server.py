"""A real `pinhole serve` with two workers and JSON logs: metrics add up across the workers, every log line is a
JSON object with the request fields, and no secret the run used reaches the logs."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.observability.scrape import Scrape
from tests.support.images import make_jpeg
from tests.test_server_smoke import _free_port

pytestmark = pytest.mark.slow

ACCESS_FIELDS = {"request_id", "dialect", "route", "principal_kind", "principal_id", "status", "duration_ms", "bytes"}


@dataclass
class Server:
    base: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    stderr: Path
    stdout: Path
    secrets: dict[str, str]

    def cli(self, *args: str, extra: dict[str, str] | None = None) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "pinhole", *args, "--json"],
            env=self.env | (extra or {}),
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    def scrape(self) -> Scrape:
        headers = {"Authorization": f"Bearer {self.secrets['metrics token']}"}
        response = httpx.get(f"{self.base}/metrics", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return Scrape(response.text)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def running_server(tmp_path: Path, **extra: str) -> Iterator[Server]:
    """`pinhole serve` with two workers and JSON logs, its secrets named in `Server.secrets`; `extra`: variables."""
    used = {
        "secret key": secrets.token_urlsafe(40),
        "metrics token": secrets.token_urlsafe(24),
        "signing key": secrets.token_urlsafe(40),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINHOLE_", "PROMETHEUS_"))} | {
        "PINHOLE_DATA_DIR": str(tmp_path / "data"),
        "PINHOLE_LOG__FORMAT": "json",
        "PINHOLE_LOG__ACCESS": "true",
        "PINHOLE_SECRET_KEY": used["secret key"],
        "PINHOLE_METRICS__TOKEN": used["metrics token"],
        "PINHOLE_SIGNING__KEYS": json.dumps([f"k1:{used['signing key']}"]),
    }
    env |= extra
    port = _free_port()
    stderr, stdout = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with stderr.open("wb") as err, stdout.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pinhole", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=err,
        )
    found = Server(f"http://127.0.0.1:{port}", env, proc, stderr, stdout, used)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{found.base}/readyz", timeout=1).status_code == 200:  # /healthz is what we count
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start:\n" + stderr.read_text())
        yield found
    finally:
        found.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as found:
        yield found


def _lines(server: Server) -> list[dict[str, Any]]:
    """Every line the server logged, each parsed as one JSON object (a line that is not one fails the test)."""
    return [json.loads(line) for line in server.stderr.read_text().splitlines() if line.strip()]


def _worker_pids(server: Server) -> set[int]:
    return {line["pid"] for line in _lines(server) if line.get("route") == "healthz"}


def _spread_over_both_workers(server: Server) -> int:
    """Send /healthz in concurrent batches until both workers have answered some; return how many were sent."""
    sent = 0
    for _ in range(20):
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: httpx.get(f"{server.base}/healthz", timeout=30).status_code, range(16)))
        assert statuses == [200] * 16
        sent += 16
        time.sleep(1.2)  # the access log is written in batches, at least once a second
        if len(_worker_pids(server)) >= 2:
            return sent
    raise AssertionError("the requests never reached the second worker")


def test_a_server_run_observed(server: Server) -> None:
    client = server.cli("clients", "create", "--name", "observed")
    password = secrets.token_urlsafe(18)
    server.secrets |= {"api key": client["apiKey"], "password": password}
    server.cli("users", "create", "--email", "ada@example.com", extra={"PINHOLE_PASSWORD": password})
    key = {"X-API-Key": client["apiKey"]}
    with httpx.Client(base_url=server.base, timeout=30) as http:
        uploaded = http.post("/v2/images", headers=key, files={"file": ("p.jpg", make_jpeg(320, 240))})
        assert uploaded.status_code == 201, uploaded.text
        image_id = uploaded.json()["id"]
        assert http.get("/v2/images", headers={"X-API-Key": client["apiKey"] + "x"}).status_code == 401
        login = http.post("/v2/auth/login", json={"login": "ada", "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        server.secrets |= {"access token": tokens["accessToken"], "refresh token": tokens["refreshToken"]}
        mine = http.get("/v2/images", headers={"Authorization": f"Bearer {tokens['accessToken']}"})
        assert mine.status_code == 200
        assert http.post("/v2/auth/login", json={"login": "ada", "password": password + "!"}).status_code == 401
        signed = http.post(f"/v2/images/{image_id}/signed-url", headers=key, json={"w": 100})
        traced = http.get(f"/v2/images/{image_id}", headers={"X-Request-Id": "edge-7f3a"})
        assert traced.headers["x-request-id"] == "edge-7f3a"
    healthz = _spread_over_both_workers(server)

    # Each worker flushes its counts about once a second; the scrape sums both workers' files.
    deadline = time.monotonic() + 30
    while True:
        found = server.scrape()
        counted = found.value("pinhole_http_requests_total", dialect="pinhole", route="healthz", status="2xx")
        if counted == healthz or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert counted == healthz
    assert found.value("pinhole_uploads_total", dialect="v2", outcome="stored") == 1
    assert found.value("pinhole_failed_credentials_total", dialect="v2", code="invalid_api_key") == 1
    assert found.value("pinhole_failed_credentials_total", dialect="v2", code="wrong_password") == 1
    assert found.value("pinhole_build_info") >= 1
    server.stop()

    lines = _lines(server)
    access = [line for line in lines if line["logger"] == "pinhole.access"]
    assert len({line["pid"] for line in access}) == 2
    for line in access:
        assert line.keys() >= ACCESS_FIELDS, line
    by_id = {line["request_id"]: line for line in access}
    assert by_id["edge-7f3a"]["route"] == "images.serve"
    uploads = [line for line in access if line["route"] == "images.upload"]
    assert uploads[0]["principal_kind"] == "client_key"
    assert uploads[0]["principal_id"] == client["id"]
    assert uploads[0]["dialect"] == "v2"
    assert uploads[0]["status"] == 201
    signed_line = next(line for line in access if line["path"].endswith("/signed-url"))
    assert signed_line["status"] == signed.status_code
    everything = server.stderr.read_text() + server.stdout.read_text()
    leaked = [name for name, value in server.secrets.items() if value in everything]
    assert leaked == []


def test_metrics_on_their_own_port_behind_a_token(tmp_path: Path) -> None:
    """`PINHOLE_METRICS__PORT`: the main process serves the sum of both workers' metrics there, behind the token,
    with the process metrics of each worker; the API port has no `/metrics` then."""
    metrics_port = _free_port()
    with running_server(tmp_path, PINHOLE_METRICS__PORT=str(metrics_port)) as server:
        token = server.secrets["metrics token"]
        endpoint = f"http://127.0.0.1:{metrics_port}/metrics"
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.base}/metrics", headers=bearer, timeout=30).status_code == 404
        assert httpx.get(endpoint, timeout=30).status_code == 401
        assert httpx.get(endpoint, headers={"Authorization": f"Bearer {token}x"}, timeout=30).status_code == 401
        assert httpx.get(endpoint, headers={"Authorization": f"Basic {token}"}, timeout=30).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/other", headers=bearer, timeout=30).status_code == 404
        healthz = _spread_over_both_workers(server)

        deadline = time.monotonic() + 30
        while True:
            answer = httpx.get(endpoint, headers=bearer, timeout=30)
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/plain")
            found = Scrape(answer.text)
            counted = found.value("pinhole_http_requests_total", dialect="pinhole", route="healthz", status="2xx")
            if counted == healthz or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert counted == healthz
        workers = {str(pid) for pid in _worker_pids(server)}
        assert len(workers) == 2
        # One series per live worker, read at scrape time (not the main process that answered).
        assert found.label_values("process_resident_memory_bytes", "pid") == workers
        assert found.label_values("process_cpu_seconds_total", "pid") == workers
        assert found.label_values("process_open_fds", "pid") == workers
        assert str(server.proc.pid) not in found.label_values("process_resident_memory_bytes", "pid")
        assert found.value("process_resident_memory_bytes") > 2 * 10_000_000  # two Python processes with pyvips
        # /readyz (polled at start) checks the database: connections were checked out of the pool and timed.
        assert found.value("pinhole_db_pool_wait_seconds_count") >= 1
        assert found.value("pinhole_build_info") >= 1
