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
    """At most `ARENA_MAX` malloc arenas in this process and every process it forks or starts, unless the operator
    set `MALLOC_ARENA_MAX` (glibc reads that at start-up). Returns what was done, for the log."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return f"MALLOC_ARENA_MAX={os.environ['MALLOC_ARENA_MAX']} (set by the operator)"
    libc = _glibc()
    if libc is None:
        return "not glibc: allocator left as it is"
    os.environ["MALLOC_ARENA_MAX"] = str(ARENA_MAX)  # processes started afresh read it
    libc.mallopt(_M_ARENA_MAX, ARENA_MAX)  # this process, and the workers it forks, from now on
    return f"MALLOC_ARENA_MAX={ARENA_MAX}"


def trim() -> bool:
    """Return free heap memory to the system (glibc's `malloc_trim(0)`); False where there is no such call."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def can_trim() -> bool:
    return _glibc() is not None
