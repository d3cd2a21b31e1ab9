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
from pinhole.services.proxy_keys import DIALECTS as PROXY_DIALECTS

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
    assert report["proxies"]["clientKeys"] == {name: {"clients": 0, "keys": 0} for name in PROXY_DIALECTS}
    assert any(
        w.startswith("dialects.imgproxy has no key and no client holds its own imgproxy keys: no imgproxy URL")
        for w in report["warnings"]
    )
    assert not any(w.startswith("dialects.thumbor") for w in report["warnings"])  # signed: a key, no unsafe
    text = _pinhole(tmp_path, "doctor", env=env).stdout
    assert "proxy thumbor at /thumbor: signing hmac-sha1, client any (public only), own keys: 0 client(s)" in text
    assert "proxy remote origins: none allowed" in text


def test_doctor_counts_the_clients_own_proxy_keys_and_never_shows_them(tmp_path: Path) -> None:
    _pinhole(tmp_path, "db", "upgrade")
    clients = [json.loads(_pinhole(tmp_path, "clients", "create", "--name", n, "--json").stdout) for n in "AB"]
    secrets = []
    for client, dialect in [(clients[0], "imgproxy"), (clients[0], "imgproxy"), (clients[1], "imgproxy"),
                            (clients[1], "thumbor")]:  # fmt: skip
        added = _pinhole(tmp_path, "clients", "proxy-keys", "add", client["id"], dialect, "--json")
        assert added.returncode == 0, added.stderr
        key = json.loads(added.stdout)
        secrets += [key[field] for field in ("key", "salt", "security_key") if field in key]
    env = {
        "PINHOLE_DIALECTS__IMGPROXY__ENABLED": "true",  # no key: signing off, but two clients sign their own URLs
        "PINHOLE_DIALECTS__IMGIX__ENABLED": "true",  # no token, and no client holds imgix keys
        "PINHOLE_DIALECTS__THUMBOR__ENABLED": "true",
        "PINHOLE_DIALECTS__THUMBOR__ALLOW_UNSAFE": "true",  # unsafe allowed; one client holds a thumbor key
    }
    result = _pinhole(tmp_path, "doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["proxies"]["clientKeys"] == {
        "imgproxy": {"clients": 2, "keys": 3},
        "thumbor": {"clients": 1, "keys": 1},
        "imgix": {"clients": 0, "keys": 0},
        "cloudinary": {"clients": 0, "keys": 0},
    }
    warnings = [w for w in report["warnings"] if w.startswith("dialects.")]
    assert warnings == [
        "dialects.thumbor.allow_unsafe: anyone may have any size of any public image rendered "
        "(except clients with own keys)",
        "dialects.imgproxy has no key: imgproxy URLs are not signed (except for clients with own keys)",
        "dialects.imgix has no token and no client holds its own imgix keys: no imgix URL is signed, anyone may "
        "have any size of any public image rendered (only transforms.stranger_renders_per_minute limits it)",
    ]  # and none for Cloudinary, which is not enabled
    text = _pinhole(tmp_path, "doctor", env=env).stdout
    assert "proxy imgproxy at /imgproxy: signing off, client any (public only), own keys: 2 client(s), 3 key(s)" in text
    assert "proxy imgix at /imgix: signing off, client any (public only), own keys: 0 client(s), 0 key(s)" in text
    assert len(secrets) == 7
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in text


def test_doctor_warns_from_the_settings_alone_when_the_database_cannot_count_keys(tmp_path: Path) -> None:
    env = {
        "PINHOLE_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none",
        "PINHOLE_DIALECTS__IMGIX__ENABLED": "true",
        "PINHOLE_DIALECTS__CLOUDINARY__ENABLED": "true",
    }
    result = _pinhole(tmp_path, "doctor", "--json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["proxies"]["clientKeys"] is None
    warnings = [w for w in report["warnings"] if w.startswith("dialects.")]
    assert warnings == ["dialects.imgix has no token: imgix URLs are not signed (except for clients with own keys)"]
    assert (
        "proxy imgix at /imgix: signing off, client any (public only), own keys unknown"
        in _pinhole(tmp_path, "doctor", env=env).stdout
    )


def test_doctor_warns_when_no_thumbor_url_can_be_served(tmp_path: Path) -> None:
    from pinhole.cli.doctor import warnings_for
    from pinhole.settings import Settings

    none = {name: {"clients": 0, "keys": 0} for name in PROXY_DIALECTS}
    one = none | {"thumbor": {"clients": 1, "keys": 2}}
    keyless = Settings(data_dir=tmp_path, dialects={"thumbor": {"enabled": True}})
    refused = "dialects.thumbor has no security_key, unsafe URLs are off and no client holds its own thumbor keys"
    assert [w for w in warnings_for(keyless, none) if "thumbor" in w] == [f"{refused}: every thumbor URL is refused"]
    assert [w for w in warnings_for(keyless, one) if "thumbor" in w] == []  # that client's URLs are served
    assert [w for w in warnings_for(keyless) if "thumbor" in w] == []  # keys unknown


def test_doctor_warns_about_cloudinary_only_when_no_url_can_be_signed(tmp_path: Path) -> None:
    from pinhole.cli.doctor import warnings_for
    from pinhole.settings import Settings

    none = {name: {"clients": 0, "keys": 0} for name in PROXY_DIALECTS}
    one = none | {"cloudinary": {"clients": 1, "keys": 1}}
    enabled = Settings(data_dir=tmp_path, dialects={"cloudinary": {"enabled": True}})
    with_secret = Settings(data_dir=tmp_path, dialects={"cloudinary": {"enabled": True, "api_secret": "s"}})
    assert [w for w in warnings_for(enabled, none) if "cloudinary" in w] == [
        "dialects.cloudinary has no api_secret and no client holds its own cloudinary keys: no cloudinary URL is "
        "signed, anyone may have any size of any public image rendered (only transforms.stranger_renders_per_minute "
        "limits it)"
    ]
    assert [w for w in warnings_for(enabled, one) if "cloudinary" in w] == []
    assert [w for w in warnings_for(with_secret, none) if "cloudinary" in w] == []
    assert [w for w in warnings_for(enabled) if "cloudinary" in w] == []  # keys unknown: the settings alone


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
