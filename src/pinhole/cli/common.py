"""What the commands share: loading settings with readable errors, running async code, JSON output."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pinhole.settings import CONFIG_FILE_VARIABLE, Settings, SettingsError, load_settings

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=f"TOML settings file (same as {CONFIG_FILE_VARIABLE}).", exists=True),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings_from(config: Path | None) -> Settings:
    if config is not None:
        os.environ[CONFIG_FILE_VARIABLE] = str(config.resolve())  # server worker processes read it too
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def emit(data: dict[str, Any] | list[Any], *, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, indent=2, default=str) if as_json else text)
