"""`pinhole-client` in a subprocess against a real server: login (0600), upload with a summary, resumed after
Ctrl-C, ls, get, url (signed, accepted by the server), rm, and --json everywhere."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.images import assert_image, make_jpeg, make_png
from tests.support.server import Server, running_server

pytestmark = pytest.mark.slow
SIGNING_KEY = "k1:" + "c" * 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"PINHOLE_SIGNING__MODE": "anonymous", "PINHOLE_SIGNING__KEYS": f'["{SIGNING_KEY}"]'}
    with running_server(tmp_path_factory.mktemp("cli-server"), env) as running:
        yield running


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    return env | {"PINHOLE_CLIENT_CONFIG_DIR": str(tmp_path / "config")}


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pinhole_client.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def cli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(cli(env, "--json", *args).stdout)


def _login(server: Server, home: dict[str, str]) -> None:
    cli(home, "login", "--url", server.url, "--key", server.api_key, "--signing-key", SIGNING_KEY)


def test_login_stores_the_key_readable_by_the_user_only(server: Server, home: dict[str, str]) -> None:
    _login(server, home)
    stored = Path(home["PINHOLE_CLIENT_CONFIG_DIR"]) / "login.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["key"] == server.api_key
    refused = cli(home, "--json", "login", "--url", server.url, "--key", "ph_wrong", check=False)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["status"] == 401


def test_upload_ls_get_url_rm(server: Server, home: dict[str, str], tmp_path: Path) -> None:
    _login(server, home)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(make_jpeg(400, 300))
    (folder / "b.png").write_bytes(make_png(120, 80))
    (folder / "notes.txt").write_text("not an image")
    summary = cli_json(home, "upload", str(folder), "--tags", "cli,trip")
    assert len(summary["uploaded"]) == 2
    assert summary["failed"] == []
    listed = cli_json(home, "ls", "--tag", "trip")
    assert {image["id"] for image in listed} == {item["id"] for item in summary["uploaded"]}
    jpeg = next(item["id"] for item in summary["uploaded"] if item["file"].endswith("a.jpg"))
    out = tmp_path / "small.webp"
    cli(home, "get", jpeg, "--w", "200", "--format", "webp", "-o", str(out))
    assert_image(out.read_bytes(), format="webp", width=200, height=150)
    signed = cli_json(home, "url", jpeg, "--w", "100", "--sign", "--expires", "600")["url"]
    assert_image(httpx.get(signed, timeout=30).content, format="jpeg", width=100, height=75)
    assert cli_json(home, "rm", jpeg) == {"removed": [jpeg]}
    assert jpeg not in {image["id"] for image in cli_json(home, "ls")}
    gone = cli(home, "--json", "get", jpeg, check=False)  # the server answers a placeholder; the CLI says 404
    assert json.loads(gone.stdout)["error"]["code"] == "image_not_found"
    missing = cli(home, "--json", "rm", jpeg, check=False)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"]["status"] == 404
    text = cli(home, "upload", str(folder / "b.png")).stdout
    assert "0 uploaded, 1 already uploaded (skipped), 0 failed" in text


def test_an_interrupted_upload_resumes(server: Server, home: dict[str, str], tmp_path: Path) -> None:
    _login(server, home)
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        (folder / f"{n:02}.jpg").write_bytes(make_jpeg(900 + n, 700))
    journal = Path(home["PINHOLE_CLIENT_CONFIG_DIR"]) / "uploads.json"
    command = [sys.executable, "-m", "pinhole_client.cli", "upload", str(folder / "*.jpg"), "--parallel", "1"]
    proc = subprocess.Popen(command, env=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and not (journal.exists() and json.loads(journal.read_text() or "{}")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    first = len(json.loads(journal.read_text()))
    assert 1 <= first < 30
    resumed = cli_json(home, "upload", str(folder / "*.jpg"), "--parallel", "3")
    assert len(resumed["skipped"]) == first
    assert len(resumed["uploaded"]) == 30 - first
    ids = {item["id"] for item in resumed["skipped"] + resumed["uploaded"]}
    assert len(ids) == 30
    listed = cli_json(home, "ls", "--search", "")
    assert ids <= {image["id"] for image in listed}


def test_get_names_the_file_from_the_answer_never_overwrites_and_writes_stdout(
    server: Server, home: dict[str, str], tmp_path: Path
) -> None:
    _login(server, home)
    source = tmp_path / "dawn.jpg"
    source.write_bytes(make_jpeg(400, 300))
    (uploaded,) = cli_json(home, "upload", str(source))["uploaded"]
    image_id = uploaded["id"]
    work = tmp_path / "work"
    work.mkdir()

    def get(*args: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "pinhole_client.cli", "get", image_id, *args]
        return subprocess.run(command, env=home, cwd=work, capture_output=True, timeout=120)

    assert get("--w", "120", "--format", "webp").returncode == 0
    assert_image((work / f"{image_id}.webp").read_bytes(), format="webp", width=120, height=90)
    assert get().returncode == 0  # the original: its Content-Type names the extension
    assert_image((work / f"{image_id}.jpg").read_bytes(), format="jpeg", width=400, height=300)
    refused = get("--w", "60", "--format", "webp")
    assert refused.returncode != 0
    assert b"--force" in refused.stderr
    assert_image((work / f"{image_id}.webp").read_bytes(), format="webp", width=120, height=90)  # untouched
    assert get("--w", "60", "--format", "webp", "--force").returncode == 0
    assert_image((work / f"{image_id}.webp").read_bytes(), format="webp", width=60, height=45)
    piped = get("--w", "80", "--format", "png", "-o", "-")
    assert piped.returncode == 0
    assert_image(piped.stdout, format="png", width=80, height=60)
    assert sorted(path.name for path in work.iterdir()) == sorted([f"{image_id}.webp", f"{image_id}.jpg"])


def _partial_upload(journal: Path) -> str | None:
    """The tus URL the CLI recorded for a file it has started and not finished."""
    if not journal.exists():
        return None
    found = json.loads(journal.read_text() or "{}")
    return next((url for key, url in found.items() if key.startswith("partial|")), None)


def test_ctrl_c_mid_file_resumes_the_tus_upload_from_the_servers_offset(
    server: Server, home: dict[str, str], tmp_path: Path
) -> None:
    _login(server, home)
    big = tmp_path / "big.jpg"
    big.write_bytes(make_jpeg(3000, 2000, quality=97))
    size = big.stat().st_size
    chunk = 16 * 1024
    journal = Path(home["PINHOLE_CLIENT_CONFIG_DIR"]) / "uploads.json"
    command = ["upload", str(big), "--resumable", "--chunk-size", str(chunk), "--quiet"]
    tus_headers = {"X-API-Key": server.api_key, "Tus-Resumable": "1.0.0"}

    def offset(url: str) -> int:
        return int(httpx.head(url, headers=tus_headers, timeout=30).headers["Upload-Offset"])

    proc = subprocess.Popen(
        [sys.executable, "-m", "pinhole_client.cli", *command],
        env=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = None
    while proc.poll() is None and (url is None or offset(url) < 4 * chunk):
        url = _partial_upload(journal)
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert url is not None
    sent = offset(url)
    assert 4 * chunk <= sent < size  # stopped mid-file, at a chunk boundary
    assert sent % chunk == 0
    resumed = cli_json(home, *command)
    (image,) = resumed["uploaded"]
    finished = httpx.get(url, headers=tus_headers, timeout=30).json()
    assert finished["id"] == image["id"]  # the same tus upload went on; it did not start again
    assert (finished["width"], finished["height"]) == (3000, 2000)
    assert _partial_upload(journal) is None
