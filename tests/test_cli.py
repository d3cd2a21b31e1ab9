"""The `pinhole` command: --help everywhere, clients, db upgrade, doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinhole.cli.main import app

COMMANDS = [
    [],
    ["serve"],
    ["doctor"],
    ["db"],
    ["db", "upgrade"],
    ["clients"],
    ["clients", "create"],
    ["clients", "list"],
    ["sign"],
    ["clients", "rotate-key"],
    ["clients", "revoke-key"],
    ["clients", "set-status"],
    ["clients", "proxy-keys"],
    ["clients", "proxy-keys", "add"],
    ["clients", "proxy-keys", "list"],
    ["clients", "proxy-keys", "rm"],
    ["users"],
    ["users", "create"],
    ["users", "list"],
    ["users", "set-status"],
    ["keys"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
    ["uploadkeys"],
    ["uploadkeys", "create"],
    ["uploadkeys", "list"],
    ["uploadkeys", "revoke"],
    ["uploadkeys", "sharex"],
    ["cache"],
    ["cache", "stats"],
    ["cache", "prune"],
    ["stats"],
    ["stats", "show"],
    ["stats", "recount"],
    ["migrate"],
    ["migrate", "storage"],
    ["migrate", "db"],
    ["store"],
    ["store", "check"],
    ["store", "purge-kept"],
    ["images"],
    ["images", "backfill-placeholders"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "pinhole")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def _pinhole(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")}
    env = clean | {"PINHOLE_DATA_DIR": str(data_dir)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "pinhole", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_clients_create_and_list_as_json(tmp_path: Path) -> None:
    created = _pinhole(tmp_path, "clients", "create", "--name", "Shop", "--json")
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert body["name"] == "Shop"
    assert body["apiKey"].startswith("phk_")
    listed = json.loads(_pinhole(tmp_path, "clients", "list", "--json").stdout)
    assert [c["id"] for c in listed] == [body["id"]]
    assert body["apiKey"] not in json.dumps(listed)


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    from pinhole.db.migrate import MIGRATIONS

    count = len(list((MIGRATIONS / "versions").glob("0*.py")))
    assert f"applied {count} migration" in _pinhole(tmp_path, "db", "upgrade").stdout
    assert "up to date" in _pinhole(tmp_path, "db", "upgrade").stdout


def test_doctor_reports_libvips_database_and_storage(tmp_path: Path) -> None:
    _pinhole(tmp_path, "db", "upgrade")
    result = _pinhole(tmp_path, "doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["libvips"].startswith("8.")
    assert {name: (f["read"], f["write"]) for name, f in report["formats"].items()} == {
        # Every format a real round trip proves on this installation (see docs/formats.md).
        "jpeg": (True, True),
        "png": (True, True),
        "webp": (True, True),
        "gif": (True, True),
        "avif": (True, True),
        "heic": (True, False),
        "apng": (True, True),
        "tiff": (True, True),
        "bmp": (True, False),
        "jxl": (True, False),
        "avif-animated": (True, True),  # AVIF sequences, every frame, through Pillow's libavif
    }
    assert report["formats"]["heic"]["decoder"] == "pillow"
    assert "heic  r-  image/heic via pillow" in _pinhole(tmp_path, "doctor").stdout
    assert report["database"] == {"ok": True, "pendingMigrations": []}
    assert report["storage"]["ok"] is True


def test_images_backfill_placeholders_runs_and_reports(tmp_path: Path) -> None:
    _pinhole(tmp_path, "db", "upgrade")
    result = _pinhole(tmp_path, "images", "backfill-placeholders", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"done": 0, "failed": 0}


def test_doctor_fails_on_an_unreachable_database(tmp_path: Path) -> None:
    result = _pinhole(tmp_path, "doctor", env={"PINHOLE_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "database: FAILED" in result.stdout


def test_invalid_setting_is_refused_naming_the_variable(tmp_path: Path) -> None:
    result = _pinhole(tmp_path, "clients", "list", env={"PINHOLE_SERVER__PORT": "seventy"})
    assert result.returncode == 2
    assert "PINHOLE_SERVER__PORT" in result.stderr


def test_sign_refuses_unknown_images_and_bad_options(tmp_path: Path) -> None:
    missing = _pinhole(tmp_path, "sign", "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41", "--w", "10")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "no image 7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41" in missing.stderr
    bad = _pinhole(tmp_path, "sign", "some-id", "--w", "0")
    assert bad.returncode == 1
    assert "--w: width must be between" in bad.stderr
    both = _pinhole(tmp_path, "sign", "some-id", "--expires-in", "60", "--no-expiry")
    assert both.returncode == 2


@pytest.mark.parametrize(("mode", "warned"), [("off", True), ("anonymous", False), ("all", False)])
def test_doctor_warns_while_urls_need_no_signature(tmp_path: Path, mode: str, warned: bool) -> None:
    from pinhole.cli.doctor import warnings_for
    from pinhole.settings import Settings

    found = warnings_for(Settings(data_dir=tmp_path, signing={"mode": mode}))
    assert any(w.startswith("signing.mode is off") for w in found) is warned


def test_doctor_reports_the_proxy_dialects(tmp_path: Path) -> None:
    _pinhole(tmp_path, "db", "upgrade")
    env = {
        "PINHOLE_DIALECTS__THUMBOR__ENABLED": "true",
        "PINHOLE_DIALECTS__THUMBOR__SECURITY_KEY": "k",
        "PINHOLE_DIALECTS__IMGPROXY__ENABLED": "true",
    }
    result = _pinhole(tmp_path, "doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["proxies"]["dialects"] == {
        "thumbor": {"prefix": "/thumbor", "signing": "hmac-sha1", "clientId": None},
        "imgproxy": {"prefix": "/imgproxy", "signing": "off", "clientId": None},
    }
    assert report["proxies"]["allowedSources"] == []
    assert any(w.startswith("dialects.imgproxy has no key: imgproxy URLs are not signed") for w in report["warnings"])
    text = _pinhole(tmp_path, "doctor", env=env).stdout
    assert "proxy thumbor at /thumbor: signing hmac-sha1" in text
    assert "proxy remote origins: none allowed" in text


def test_doctor_reports_the_remote_origin_allowlist(tmp_path: Path) -> None:
    _pinhole(tmp_path, "db", "upgrade")
    env = {
        "PINHOLE_DIALECTS__IMGIX__ENABLED": "true",
        "PINHOLE_DIALECTS__IMGIX__TOKEN": "t",
        "PINHOLE_DIALECTS__IMGIX__ORIGIN": "https://other.example.org/photos",
        "PINHOLE_PROXY__ALLOWED_SOURCES": '["https://images.example.com/photos/", "not a url"]',
        "PINHOLE_PROXY__ORIGIN_TTL_SECONDS": "120",
    }
    result = _pinhole(tmp_path, "doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["proxies"]["dialects"]["imgix"]["origin"] == "https://other.example.org/photos"
    assert report["proxies"]["allowedSources"] == ["https://images.example.com/photos/", "not a url"]
    assert report["proxies"]["originTtlSeconds"] == 120
    warnings = report["warnings"]
    assert any("are not http(s) URL prefixes" in w for w in warnings)
    assert any("dialects.imgix.origin is not under proxy.allowed_sources" in w for w in warnings)
    text = _pinhole(tmp_path, "doctor", env=env).stdout
    assert "proxy imgix at /imgix: signing md5 token" in text
    assert (
        "proxy remote origins allowed under: https://images.example.com/photos/, not a url (revalidated after 120 s)"
        in text
    )
