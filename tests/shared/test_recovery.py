"""Redis going away and coming back, with a real redis-server of the test's own on a free port: one warning per
outage, in-process counting meanwhile, Redis used again (and its return logged) after the cool-down."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from pinhole.settings import RedisSettings
from pinhole.shared.counters import RedisRateLimitStore
from pinhole.shared.link import RedisLink

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None
        args = [server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(200):  # until it answers (a readiness wait, not a timing assertion)
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def server() -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        pytest.skip("REDIS-SERVER NOT ON PATH; the recovery test needs its own server")
    own = Server(_free_port())
    own.start()
    yield own
    own.stop()


async def test_an_outage_warns_once_falls_back_and_recovers(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pinhole.shared.link")
    now = [0.0]
    settings = RedisSettings(url=f"redis://127.0.0.1:{server.port}/0", cooldown_seconds=10)
    made = RedisLink.from_settings(settings)
    assert made is not None
    link = RedisLink(made.client, prefix="t:", cooldown=10, where=made.where, clock=lambda: now[0])
    store = RedisRateLimitStore(link)
    try:
        assert (await store.hit("k", window_seconds=60, now=1000)).count == 1
        server.stop()
        counts = [(await store.hit("k", window_seconds=60, now=1000)).count for _ in range(3)]
        assert counts == [1, 2, 3]  # in process: the fallback store's own window
        assert not link.available
        now[0] += 11
        assert (await store.hit("k", window_seconds=60, now=1000)).count == 4  # tried again: still down
        server.start()
        now[0] += 11
        # Redis again: the restarted server kept nothing, so its window starts over (the fallback would say 5).
        assert (await store.hit("k", window_seconds=60, now=1000)).count == 1
        assert (await store.hit("k", window_seconds=60, now=1000)).count == 2
    finally:
        await link.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name == "pinhole.shared.link"]
    assert len(lines) == 2
    assert "unreachable" in lines[0]
    assert "answers again" in lines[1]
    assert link.outages == 1
