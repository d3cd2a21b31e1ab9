"""`pinhole clients proxy-keys add/list/rm` in a real process, against the database and server secret of a running
app: the key it prints signs URLs the app opens, `list` never shows a secret, `rm` stops the key at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from libthumbor import CryptoURL

from pinhole.settings import Settings
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import hosted, picture

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"dialects": {"thumbor": {"enabled": True}}}


def pinhole(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    env = clean | {"PINHOLE_DATA_DIR": str(settings.data_dir)}
    if settings.database.url is not None:
        env["PINHOLE_DATABASE__URL"] = settings.database.url
    return subprocess.run(
        [sys.executable, "-m", "pinhole", "clients", "proxy-keys", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_add_list_and_remove(http: httpx.AsyncClient, settings: Settings, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant, private=True)
    added = pinhole(settings, "add", tenant.id, "thumbor", "--json")
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)
    url = "/thumbor" + str(CryptoURL(key=key["security_key"]).generate(width=100, image_url=image_id))
    assert picture(await http.get(url)).width == 100
    listed = pinhole(settings, "list", tenant.id, "--json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [key["id"]]
    assert key["security_key"] not in listed.stdout
    refused = pinhole(settings, "add", tenant.id, "imgproxy", "--key", "not-hex")
    assert (refused.returncode, "hex" in refused.stdout + refused.stderr) == (1, True)
    assert pinhole(settings, "rm", tenant.id, key["id"]).returncode == 0
    assert (await http.get(url)).status_code == 400
    assert pinhole(settings, "rm", tenant.id, key["id"]).returncode == 1
