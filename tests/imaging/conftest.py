from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pinhole.imaging.inspect import ImageLimits
from pinhole.imaging.options import OutputLimits

WriteFile = Callable[[bytes, str], Path]


@pytest.fixture
def limits() -> ImageLimits:
    return ImageLimits(max_pixels=4_000_000, max_frames=20)


@pytest.fixture
def output_limits() -> OutputLimits:
    return OutputLimits(max_width=2000, max_height=2000, max_pixels=2_000_000)


@pytest.fixture
def upload(tmp_path: Path) -> WriteFile:
    """Write bytes under a given file name, as an upload lands on disk."""

    def write(data: bytes, name: str) -> Path:
        path = tmp_path / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path
