"""Settings as the PINHOLE_* variables a subprocess (the CLI, a server) needs to work on the same stack."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from pinhole.settings import Settings


def _flatten(prefix: str, model: BaseModel) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in model:
        env |= _one(f"{prefix}__{name.upper()}", value)
    return env


def _one(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        return _flatten(name, value)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return {name: str(value).lower() if isinstance(value, bool) else str(value)}


def settings_env(settings: Settings) -> dict[str, str]:
    """The data folder, the database, the blob store and Redis of `settings` (what decides where data lives)."""
    env = {"PINHOLE_DATA_DIR": str(settings.data_dir)}
    if settings.database.url is not None:
        env["PINHOLE_DATABASE__URL"] = settings.database.url
    env |= _flatten("PINHOLE_STORAGE", settings.storage)
    redis = getattr(settings, "redis", None)
    if isinstance(redis, BaseModel):
        env |= _flatten("PINHOLE_REDIS", redis)
    return env
