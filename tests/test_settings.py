"""Settings: environment names, TOML file, validation errors that name the variable, the generated secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from pinhole.settings import (
    Settings,
    SettingsError,
    iter_setting_names,
    load_settings,
    normalize_database_url,
    resolve_secret,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [name for name in iter_setting_names() if f"`{name}`" not in text]
    assert missing == []


def test_fixed_operator_names_exist() -> None:
    names = iter_setting_names()
    for fixed in ("PINHOLE_DATA_DIR", "PINHOLE_DATABASE__URL", "PINHOLE_SECRET_KEY"):
        assert fixed in names


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PINHOLE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PINHOLE_UPLOADS__MAX_FILE_BYTES", "2048")
    monkeypatch.setenv("PINHOLE_DIALECTS__V2__PREFIX", "/api/v2/")
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.uploads.max_file_bytes == 2048
    assert settings.v2.prefix == "/api/v2"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'pinhole.db'}"


def test_toml_file_is_read_below_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "pinhole.toml"
    config.write_text("[uploads]\nmax_pixels = 1000\nmax_frames = 7\n[server]\nport = 9001\n")
    monkeypatch.setenv("PINHOLE_CONFIG", str(config))
    monkeypatch.setenv("PINHOLE_UPLOADS__MAX_FRAMES", "9")
    settings = load_settings()
    assert (settings.uploads.max_pixels, settings.uploads.max_frames, settings.server.port) == (1000, 9, 9001)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PINHOLE_UPLOADS__MAX_FILE_BYTES", "lots"),
        ("PINHOLE_IMAGING__DEFAULT_QUALITY", "101"),
        ("PINHOLE_DIALECTS__V2__PREFIX", "v2"),
        ("PINHOLE_STORAGE__BACKEND", "floppy"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_postgres_urls_get_the_async_driver() -> None:
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert Settings(database={"url": "postgres://h/x"}).database_url == "postgresql+asyncpg://h/x"


def test_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    first = resolve_secret(settings)
    assert len(first) >= 48
    assert resolve_secret(settings) == first
    secret_file = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert list((tmp_path / "d").iterdir()) == [secret_file]


def test_configured_secret_replaces_the_generated_one(tmp_path: Path) -> None:
    shared = "s" * 40
    assert resolve_secret(Settings(data_dir=tmp_path, secret_key=shared)) == shared
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(SettingsError, match="PINHOLE_SECRET_KEY"):
        resolve_secret(Settings(data_dir=tmp_path, secret_key="short"))


@pytest.mark.parametrize(
    "transforms",
    [
        {"presets": {"Card!": "w=10"}},
        {"presets": {"card": "w=10&zoom=2"}},
        {"presets": {"card": "w=10&w=20"}},
        {"presets": {"card": "w=10"}, "eager_presets": ["poster"]},
    ],
)
def test_bad_transform_settings_are_refused(transforms: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(transforms=transforms)


@pytest.mark.parametrize(
    ("workers", "redis_url", "cpus", "expected"),
    [
        (None, None, 4, 1),  # without Redis, processes would each keep their own limits and locks
        (None, "redis://127.0.0.1:6379/0", 4, 4),
        (None, "redis://127.0.0.1:6379/0", 32, 8),
        (3, None, 4, 3),  # an explicit count always wins
        (2, "redis://127.0.0.1:6379/0", 16, 2),
    ],
)
def test_the_default_worker_count_suits_the_machine(
    monkeypatch: pytest.MonkeyPatch, workers: int | None, redis_url: str | None, cpus: int, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)), raising=False)
    settings = Settings(server={"workers": workers}, redis={"url": redis_url})
    assert settings.server_workers == expected
