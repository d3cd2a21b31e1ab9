"""The operator commands for users, clients and keys, run as real processes: JSON shapes, exit codes, no secret
on stderr, and keys that the API then accepts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinhole.app import create_app
from pinhole.settings import Settings
from tests.support.images import make_jpeg

PASSWORD = "a long operator passphrase"
FAST_HASHES = {"PINHOLE_ACCOUNTS__PASSWORD_HASH_MEMORY_KIB": "1024", "PINHOLE_ACCOUNTS__PASSWORD_HASH_TIME_COST": "1"}


class Cli:
    """Runs `pinhole` against one data folder and keeps every stderr, to check no secret ever reaches it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.stderr: list[str] = []

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
        result = subprocess.run(
            [sys.executable, "-m", "pinhole", *args],
            env=clean | FAST_HASHES | {"PINHOLE_DATA_DIR": str(self.data_dir)} | (env or {}),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.stderr.append(result.stderr)
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        result = self(*args, "--json", **kwargs)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def assert_never_logged(self, *secrets: str) -> None:
        for stderr in self.stderr:
            for secret in secrets:
                assert secret not in stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


USER_FIELDS = {"id", "email", "username", "displayName", "role", "status", "createdAt", "lastLoginAt"}


def test_users_create_list_and_set_status(cli: Cli) -> None:
    alice = cli.json("users", "create", "--email", "Alice@Example.com", "--password", PASSWORD)
    assert set(alice) == USER_FIELDS
    assert (alice["email"], alice["username"], alice["role"], alice["status"]) == (
        "alice@example.com",
        "alice",
        "user",
        "active",
    )
    by_env = cli.json(
        "users",
        "create",
        "--email",
        "root@example.com",
        "--username",
        "Root",
        "--admin",
        env={"PINHOLE_PASSWORD": "x" * 12},
    )
    assert (by_env["username"], by_env["role"]) == ("root", "admin")
    piped = cli.json("users", "create", "--email", "carol@example.com", stdin="carol's long password\n")
    assert piped["username"] == "carol"
    listed = cli.json("users", "list")
    assert [u["username"] for u in listed] == ["alice", "root", "carol"]
    assert all(set(u) == USER_FIELDS for u in listed)
    suspended = cli.json("users", "set-status", "alice@example.com", "suspended")
    assert (suspended["id"], suspended["status"]) == (alice["id"], "suspended")
    text = cli("users", "set-status", alice["id"], "active")
    assert text.returncode == 0
    assert text.stdout.strip() == "alice: active"
    cli.assert_never_logged(PASSWORD, "x" * 12, "carol's long password")


REFUSALS = [
    (["--email", "alice@example.com", "--password", "short"], 1, "at least 10 characters"),
    (["--email", "alice@example.com", "--password", "password123"], 1, "most common"),
    (["--email", "not-an-email", "--password", PASSWORD], 1, "valid email"),
    (["--email", "ALICE@example.com", "--password", PASSWORD], 1, "already exists"),
    (["--email", "b@example.com", "--username", "alice", "--password", PASSWORD], 1, "taken"),
    (["--email", "b@example.com"], 2, "give a password"),
]


def test_users_refusals_are_clear_messages_and_exit_codes(cli: Cli) -> None:
    cli.json("users", "create", "--email", "alice@example.com", "--password", PASSWORD)
    for args, code, message in REFUSALS:
        result = cli("users", "create", *args)
        assert result.returncode == code, args
        assert result.stdout == ""
        assert result.stderr.startswith("error: ")
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    missing = cli("users", "set-status", "nobody", "active")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: No such user.")
    assert cli("users", "set-status", "alice", "frozen").returncode == 2
    assert [u["email"] for u in cli.json("users", "list")] == ["alice@example.com"]


KEY_FIELDS = {"id", "userId", "name", "prefix", "createdAt", "expiresAt", "lastUsedAt"}


def test_personal_keys_create_list_revoke(cli: Cli) -> None:
    alice = cli.json("users", "create", "--email", "alice@example.com", "--password", PASSWORD)
    created = cli.json("keys", "create", "--user", "alice", "--name", "backup", "--expires-in-days", "30")
    assert set(created) == KEY_FIELDS | {"key"}
    assert re.fullmatch(r"sk_[0-9a-f]{64}", created["key"])
    assert (created["userId"], created["name"], created["prefix"]) == (alice["id"], "backup", created["key"][:10])
    assert created["expiresAt"] is not None
    text = cli("keys", "create", "--user", "alice@example.com")
    assert text.returncode == 0
    second_key = text.stdout.split()[-1]
    assert re.fullmatch(r"sk_[0-9a-f]{64}", second_key)
    listed = cli("keys", "list", "--user", alice["id"], "--json")
    assert created["key"] not in listed.stdout
    assert second_key not in listed.stdout
    rows = json.loads(listed.stdout)
    assert [set(r) for r in rows] == [KEY_FIELDS, KEY_FIELDS]
    assert cli.json("keys", "revoke", created["id"]) == {"id": created["id"], "revoked": True}
    assert [r["name"] for r in cli.json("keys", "list", "--user", "alice")] == ["API key"]
    again = cli("keys", "revoke", created["id"])
    assert (again.returncode, again.stderr.strip()) == (1, "error: No such key.")
    nobody = cli("keys", "create", "--user", "nobody")
    assert (nobody.returncode, nobody.stderr.strip()) == (1, "error: No such user.")
    cli.assert_never_logged(PASSWORD, created["key"], second_key)


UPLOAD_KEY_FIELDS = {"id", "userId", "name", "prefix", "createdAt", "lastUsedAt"}


def test_upload_keys_create_list_sharex_revoke(cli: Cli) -> None:
    cli.json("users", "create", "--email", "alice@example.com", "--password", PASSWORD)
    created = cli.json("uploadkeys", "create", "--user", "alice", "--name", "ShareX")
    assert set(created) == UPLOAD_KEY_FIELDS | {"key"}
    assert created["key"].startswith("uk_")
    listed = cli("uploadkeys", "list", "--user", "alice", "--json")
    assert created["key"] not in listed.stdout
    assert [set(r) for r in json.loads(listed.stdout)] == [UPLOAD_KEY_FIELDS]
    config = json.loads(cli("uploadkeys", "sharex", created["id"], "--url", "https://img.example.com/").stdout)
    assert config["RequestURL"] == "https://img.example.com/v2/images"
    assert config["Headers"] == {"X-Upload-Key": created["key"]}
    assert config["FileFormName"] == "file"
    no_url = cli("uploadkeys", "sharex", created["id"])
    assert no_url.returncode == 2
    assert "public URL" in no_url.stderr
    from_settings = cli("uploadkeys", "sharex", created["id"], env={"PINHOLE_SERVER__PUBLIC_URL": "https://i.example"})
    assert json.loads(from_settings.stdout)["RequestURL"] == "https://i.example/v2/images"
    assert cli.json("uploadkeys", "revoke", created["id"]) == {"id": created["id"], "revoked": True}
    assert cli.json("uploadkeys", "list", "--user", "alice") == []
    assert cli("uploadkeys", "sharex", created["id"], "--url", "https://i.example").returncode == 1
    cli.assert_never_logged(PASSWORD, created["key"])


CLIENT_FIELDS = {"id", "name", "keyPrefix", "hasKey", "active", "createdAt", "keyRotatedAt"}


def test_clients_rotate_revoke_and_set_status(cli: Cli) -> None:
    shop = cli.json("clients", "create", "--name", "Shop")
    rotated = cli.json("clients", "rotate-key", shop["id"])
    assert set(rotated) == {"id", "name", "apiKey", "keyRotatedAt"}
    assert rotated["apiKey"].startswith("phk_")
    assert rotated["apiKey"] != shop["apiKey"]
    assert rotated["keyRotatedAt"] is not None
    [listed] = cli.json("clients", "list")
    assert set(listed) == CLIENT_FIELDS
    assert (listed["keyPrefix"], listed["hasKey"]) == (rotated["apiKey"][:12], True)
    revoked = cli.json("clients", "revoke-key", shop["id"])
    assert (revoked["hasKey"], revoked["keyPrefix"]) == (False, None)
    inactive = cli.json("clients", "set-status", shop["id"], "inactive")
    assert inactive["active"] is False
    assert cli.json("clients", "set-status", shop["id"], "active")["active"] is True
    missing = cli("clients", "rotate-key", "nope")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: No such client.")
    bad_name = cli("clients", "create", "--name", " ")
    assert bad_name.returncode == 1
    assert "client name" in bad_name.stderr
    cli.json("users", "create", "--email", "alice@example.com", "--password", PASSWORD)  # makes the accounts tenant
    accounts = cli("clients", "rotate-key", "accounts")
    assert accounts.returncode == 1
    assert "accounts tenant" in accounts.stderr
    cli.assert_never_logged(shop["apiKey"], rotated["apiKey"], PASSWORD)


@pytest.mark.anyio
async def test_keys_made_by_the_cli_open_the_api(cli: Cli) -> None:
    cli.json("users", "create", "--email", "alice@example.com", "--password", PASSWORD)
    personal = cli.json("keys", "create", "--user", "alice")["key"]
    upload = cli.json("uploadkeys", "create", "--user", "alice")["key"]
    client = cli.json("clients", "create", "--name", "Shop")
    rotated = cli.json("clients", "rotate-key", client["id"])["apiKey"]
    app = create_app(Settings(data_dir=cli.data_dir))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        files = {"file": ("a.jpg", make_jpeg(16, 16), "image/jpeg")}
        assert (await http.post("/v2/images", headers={"X-Upload-Key": upload}, files=files)).status_code == 201
        mine = await http.get("/v2/images", headers={"Authorization": f"Bearer {personal}"})
        assert mine.status_code == 200
        assert len(mine.json()["data"]) == 1
        assert (await http.get("/v2/images", headers={"X-API-Key": rotated})).status_code == 200
        assert (await http.get("/v2/images", headers={"X-API-Key": client["apiKey"]})).status_code == 401
