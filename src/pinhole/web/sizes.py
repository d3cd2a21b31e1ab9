"""Byte sizes as people type and read them on the admin pages: "5 GB", "500 MB", "1.5 GB", or a plain byte count.

Units are binary (1 KB = 1024 bytes), as the pages show sizes everywhere else (`rendering.filesize`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}
UNITS |= {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
MAX_BYTES = 1 << 60


def parse_byte_size(text: str) -> int | None:
    """Bytes for "5 GB" and the like; None when it is not a size."""
    found = _SIZE.match(text)
    if found is None or found.group(2).lower() not in UNITS:
        return None
    try:
        value = int(Decimal(found.group(1)) * UNITS[found.group(2).lower()])
    except InvalidOperation:
        return None
    return value if value <= MAX_BYTES else None


def show_byte_size(value: int) -> str:
    """The largest whole unit that states `value` exactly ("5 GB"), else the byte count."""
    for unit in ("TB", "GB", "MB", "KB"):
        size = UNITS[unit.lower()]
        if value and value % size == 0:
            return f"{value // size} {unit}"
    return str(value)
