"""`pinhole serve` bounds glibc's malloc arenas (docs/deploy.md, Memory) unless the operator chose a value."""

from __future__ import annotations

import os
import platform

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
    assert allocator.limit_arenas() == f"MALLOC_ARENA_MAX={allocator.ARENA_MAX}"
    assert os.environ["MALLOC_ARENA_MAX"] == str(allocator.ARENA_MAX)
    assert allocator.trim()
