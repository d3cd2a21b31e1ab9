"""The C allocator under libvips' threads: fewer glibc arenas, and free memory handed back (docs/deploy.md, "Memory").

glibc gives each thread that allocates concurrently an arena of its own, up to 8 per core; libvips' worker threads
each fill one with image buffers and the holes left between long-lived blocks keep those pages resident, so a
worker's RSS climbs for minutes and stays there when idle (bench/soak.py measured 214 -> 575 MiB). Two arenas
bound that; a periodic `malloc_trim` returns freed pages to the system. Other C libraries (musl, macOS) are left
as they are.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from functools import cache

log = logging.getLogger(__name__)

ARENA_MAX = 2
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
# Blocks from this size up get pages of their own (mmap), handed back the moment they are freed. glibc's default
# starts at 128 KiB but raises the threshold to the size of every mmapped block freed (up to 32 MiB), so after the
# first few originals (a 3 MB JPEG read for a render, a decoded region) they all come from the arenas, whose freed
# pages stay resident until a trim: a soak's worker swung 260 <-> 340 MiB in step with the trims (bench/soak.py).
# A fixed threshold also turns that adjustment off.
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3


@cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_arenas() -> str:
    """At most `ARENA_MAX` malloc arenas and a fixed mmap threshold (`MMAP_THRESHOLD`) in this process and every
    process it forks or starts, each unless the operator set its variable (`MALLOC_ARENA_MAX`,
    `MALLOC_MMAP_THRESHOLD_`: glibc reads them at start-up). Returns what was done, for the log."""
    if _glibc() is None:
        return "not glibc: allocator left as it is"
    return ", ".join(
        [
            _set("MALLOC_ARENA_MAX", _M_ARENA_MAX, ARENA_MAX),
            _set("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        ]
    )


def _set(variable: str, parameter: int, value: int) -> str:
    if variable in os.environ:
        return f"{variable}={os.environ[variable]} (set by the operator)"
    libc = _glibc()
    assert libc is not None
    os.environ[variable] = str(value)  # processes started afresh read it
    libc.mallopt(parameter, value)  # this process, and the workers it forks, from now on
    return f"{variable}={value}"


def trim() -> bool:
    """Return free heap memory to the system (glibc's `malloc_trim(0)`); False where there is no such call."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def can_trim() -> bool:
    return _glibc() is not None
