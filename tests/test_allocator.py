"""`pinhole serve` bounds glibc's malloc arenas (docs/deploy.md, Memory) unless the operator chose a value."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from pinhole import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def test_an_operators_arena_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert "set by the operator" in allocator.limit_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "8"


@pytest.mark.skipif(not GLIBC, reason="the arena cap is glibc's")
def test_without_one_the_arenas_are_capped_for_this_process_and_its_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert allocator.limit_arenas() == (
        f"MALLOC_ARENA_MAX={allocator.ARENA_MAX}, MALLOC_MMAP_THRESHOLD_={allocator.MMAP_THRESHOLD}"
    )
    assert os.environ["MALLOC_ARENA_MAX"] == str(allocator.ARENA_MAX)
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(allocator.MMAP_THRESHOLD)
    assert allocator.trim()


# After a 20 MiB block is freed, glibc's default raises its mmap threshold to 20 MiB: a 2 MiB block then comes from
# the heap (its freed pages stay resident until a trim). With the fixed threshold it still gets pages of its own.
# mallinfo2().hblks counts the blocks held in mmapped pages. A fresh interpreter, since mallopt is per process.
_PROBE = """
import ctypes, sys
from pinhole import allocator
if sys.argv[1] == "fixed":
    allocator.limit_arenas()

NAMES = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in NAMES]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
libc.free(libc.malloc(20 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(libc.mallinfo2().hblks - before)
libc.free(block)
"""


@pytest.mark.skipif(not GLIBC, reason="the mmap threshold is glibc's")
@pytest.mark.parametrize(("mode", "mapped"), [("default", "0"), ("fixed", "1")])
def test_large_blocks_keep_pages_of_their_own_after_larger_ones_were_freed(mode: str, mapped: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == mapped
