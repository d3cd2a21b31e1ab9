"""The client CLI's stored login and upload journal, in the user's config directory, readable by the user only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def config_dir() -> Path:
    """`$PINHOLE_CLIENT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/pinhole-client`, else `~/.config/pinhole-client`."""
    explicit = os.environ.get("PINHOLE_CLIENT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pinhole-client"


def write_private(path: Path, data: Any) -> None:
    """Write JSON atomically with mode 0600 (the file holds a key or a token)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def login_path() -> Path:
    return config_dir() / "login.json"


def journal_path() -> Path:
    return config_dir() / "uploads.json"
