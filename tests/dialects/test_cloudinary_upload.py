"""The Cloudinary upload API through the official SDK (`cloudinary.uploader.upload`/`destroy`) against a real
pinhole server on loopback, then the uploaded public id through a signed delivery URL the SDK builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudinary
import cloudinary.exceptions
import cloudinary.uploader
import httpx
import pytest
import pyvips
from cloudinary import CloudinaryImage

from tests.support import images as img
from tests.web.live import LiveServer, live_server

CLOUD, API_KEY, SECRET = "shop-cloud", "874837483274837", "a676b67565c6767a6767d6767f676fe1"


def _pinhole(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | {"PINHOLE_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "pinhole", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _pinhole(data_dir, "db", "upgrade")
    client_id = json.loads(_pinhole(data_dir, "clients", "create", "--name", "shop", "--json"))["id"]
    settings = {
        "PINHOLE_DIALECTS__CLOUDINARY__ENABLED": "true",
        "PINHOLE_DIALECTS__CLOUDINARY__CLOUD_NAME": CLOUD,
        "PINHOLE_DIALECTS__CLOUDINARY__API_KEY": API_KEY,
        "PINHOLE_DIALECTS__CLOUDINARY__API_SECRET": SECRET,
        "PINHOLE_DIALECTS__CLOUDINARY__CLIENT_ID": client_id,
    }
    with live_server(data_dir, **settings) as live:
        cloudinary.config(cloud_name=CLOUD, api_key=API_KEY, api_secret=SECRET, upload_prefix=f"{live.base}/cloudinary")
        try:
            yield live
        finally:
            cloudinary.reset_config()


def delivery_url(server: LiveServer, public_id: str, **options: Any) -> str:
    host = server.base.removeprefix("http://")
    built = str(
        CloudinaryImage(public_id).build_url(
            secure=True, secure_distribution=f"{host}/cloudinary", sign_url=True, **options
        )
    )
    return built.replace("https://", "http://", 1)


def test_upload_deliver_and_destroy(server: LiveServer) -> None:
    original = img.make_jpeg(800, 600, exif=False)
    result = cloudinary.uploader.upload(original, public_id="hero", folder="site", tags=["home", "banner"])
    assert result["public_id"] == "site/hero"
    assert (result["width"], result["height"], result["format"]) == (800, 600, "jpg")
    assert result["bytes"] > 0
    assert isinstance(result["version"], int)
    assert result["secure_url"].startswith("https://")
    assert sorted(result["tags"]) == ["banner", "home"]

    response = httpx.get(delivery_url(server, "site/hero", width=200, height=300, crop="fill"), timeout=30)
    assert response.status_code == 200, response.headers
    shown = pyvips.Image.new_from_buffer(response.content, "")
    assert (shown.width, shown.height) == (200, 300)

    assert cloudinary.uploader.destroy("site/hero")["result"] == "ok"
    gone = httpx.get(delivery_url(server, "site/hero", width=200, crop="scale"), timeout=30)
    assert gone.status_code == 404
    assert cloudinary.uploader.destroy("site/hero")["result"] == "not found"


def test_an_upload_without_public_id_is_named_by_its_v2_id(server: LiveServer) -> None:
    result = cloudinary.uploader.upload(img.make_jpeg(320, 240, exif=False))
    assert len(result["public_id"]) == 36
    response = httpx.get(delivery_url(server, result["public_id"], width=100, crop="scale"), timeout=30)
    assert pyvips.Image.new_from_buffer(response.content, "").width == 100


def test_a_wrong_secret_or_key_is_refused(server: LiveServer) -> None:
    with pytest.raises(cloudinary.exceptions.Error, match="Signature"):
        cloudinary.uploader.upload(img.make_jpeg(64, 48), api_secret="not-the-secret")
    with pytest.raises(cloudinary.exceptions.Error):
        cloudinary.uploader.upload(img.make_jpeg(64, 48), api_key="123")
