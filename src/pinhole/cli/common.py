"""What the commands share: loading settings with readable errors, running async code, JSON output.

Exit codes: 0 done; 1 refused (a service said no: weak password, duplicate email, no such user...); 2 unusable
settings or arguments. Messages go to stderr and never contain a secret.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from pinhole.errors import PinholeError
from pinhole.settings import CONFIG_FILE_VARIABLE, Settings, SettingsError, load_settings

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=f"TOML settings file (same as {CONFIG_FILE_VARIABLE}).", exists=True),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    if config is not None:
        os.environ[CONFIG_FILE_VARIABLE] = str(config.resolve())  # server worker processes read it too
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's async body; a typed service error becomes its public message and exit code 1."""
    try:
        return asyncio.run(coro)
    except PinholeError as exc:
        fail(exc.message)


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def emit(data: dict[str, Any] | list[Any], *, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, indent=2, default=_plain) if as_json else text)
