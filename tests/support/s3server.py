"""A real S3-speaking server on loopback for the tests: moto's standalone server, run as a child process.

`s3_server` is a session fixture (import it into a conftest to use it); each test makes its own bucket with
`S3Server.new_bucket()` so tests never see each other's objects. When the server cannot start, the fixture
fails with the server's own output: S3 tests must never pass by being skipped.

The server answers listings in pages of `LIST_PAGE_SIZE` keys (instead of 1000) so that every listing test
exercises pagination.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import boto3
import pytest

from pinhole.settings import S3Settings

ACCESS_KEY_ID = "pinhole-test"
SECRET_ACCESS_KEY = "pinhole-test-secret"
REGION = "us-east-1"
LIST_PAGE_SIZE = 3
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class S3Server:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    _client: Any = field(default=None, repr=False)

    @property
    def client(self) -> Any:
        """A plain boto3 client, for setting up and inspecting the server behind the store's back."""
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
            )
        return self._client

    def new_bucket(self) -> str:
        name = f"pinhole-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, **overrides: Any) -> S3Settings:
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "bucket": bucket,
            "region": REGION,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "path_style": True,
            "max_attempts": 2,
            "timeout_seconds": 10,
        }
        values.update(overrides)
        return S3Settings(**values)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def start_s3_server(extra_env: dict[str, str] | None = None) -> S3Server:
    """Start `python -m moto.server` on a free loopback port and wait until it answers; raise if it does not."""
    port = free_port()
    env = {
        **os.environ,
        "MOTO_S3_DEFAULT_MAX_KEYS": str(LIST_PAGE_SIZE),
        # No stray AWS configuration of the machine may reach the server's own boto3.
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        **(extra_env or {}),
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read back if the server fails to start)
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return S3Server(endpoint_url=endpoint, process=process, log=log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    log.seek(0)
    output = log.read().decode(errors="replace")[-4000:]
    log.close()
    raise RuntimeError(f"S3 TEST SERVER (moto) DID NOT START on {endpoint} (exit {process.returncode}):\n{output}")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto server for the whole test session; a failure to start fails every test that needs it."""
    try:
        server = start_s3_server()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"S3 TEST SERVER UNAVAILABLE: {exc}", pytrace=False)
    yield server
    server.stop()
