"""The TypeScript SDK: compiled with tsc and run with Node's test runner against a real pinhole server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.images import make_jpeg
from tests.support.node import build, ensure_node
from tests.support.server import Server, running_server

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
SIGNING_KEY = "k1:" + "t" * 40
BIG = (3000, 2000)  # a JPEG of several MB, for progress in many steps


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"PINHOLE_SIGNING__MODE": "anonymous", "PINHOLE_SIGNING__KEYS": f'["{SIGNING_KEY}"]'}
    with running_server(tmp_path_factory.mktemp("ts-server"), env) as running:
        yield running


def test_typescript_sdk_with_node_test_runner(server: Server, tmp_path: Path) -> None:
    ensure_node()
    build(PROJECT)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_jpeg(640, 480))
    big = tmp_path / "big.jpg"
    big.write_bytes(make_jpeg(*BIG, quality=97))
    env = server.env | {
        "PINHOLE_URL": server.url,
        "PINHOLE_API_KEY": server.api_key,
        "PINHOLE_SIGNING_KEY": SIGNING_KEY,
        "PINHOLE_TEST_IMAGE": str(photo),
        "PINHOLE_TEST_BIG_IMAGE": str(big),
        "PINHOLE_TEST_BIG_SIZE": f"{BIG[0]}x{BIG[1]}",
    }
    node = shutil.which("node") or "node"
    done = subprocess.run(
        [node, "--test", "dist/test/"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "# fail 0" in done.stdout
    assert "# pass 6" in done.stdout
