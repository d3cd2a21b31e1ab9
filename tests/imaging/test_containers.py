from __future__ import annotations

import struct

import pytest

from pinhole.imaging.containers import Malformed, Truncated, logical_end, webp_is_lossless
from tests.support.images import make_jpeg, make_png, make_webp, photo


def _with_app_segment(jpeg: bytes, body: bytes) -> bytes:
    """Insert an APP2 segment (as EXIF thumbnails and MPF data are carried) right after SOI."""
    return jpeg[:2] + b"\xff\xe2" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_jpeg_end_skips_whole_jpegs_inside_segments() -> None:
    outer, inner = make_jpeg(32, 24, exif=False), make_jpeg(8, 8, exif=False)
    data = _with_app_segment(outer, inner)
    assert logical_end(data, format_name="jpeg") == len(data)
    assert logical_end(data + b"PK\x03\x04", format_name="jpeg") == len(data)


@pytest.mark.parametrize(
    "options",
    [{}, {"interlace": True}, {"restart_interval": 1}, {"interlace": True, "optimize_scans": True}],
    ids=["baseline", "progressive", "restarts", "optimised-scans"],
)
def test_jpeg_end_is_found_in_every_coding(options: dict[str, object]) -> None:
    data = bytes(photo(40, 30).jpegsave_buffer(**options))
    assert logical_end(data + b"<html>", format_name="jpeg") == len(data)


def test_png_end_is_after_iend() -> None:
    data = make_png(10, 10)
    assert logical_end(data + b"<html>", format_name="png") == len(data)


def test_riff_end_is_the_declared_size() -> None:
    data = make_webp(10, 10)
    assert logical_end(data + b"<html>", format_name="webp") == len(data)


@pytest.mark.parametrize("name", ["jpeg", "png", "webp"])
def test_cut_structures_are_truncated(name: str) -> None:
    data = {"jpeg": make_jpeg(20, 20), "png": make_png(20, 20), "webp": make_webp(20, 20)}[name]
    with pytest.raises(Truncated):
        logical_end(data[: len(data) // 2], format_name=name)


def test_gif_with_an_unknown_block_is_malformed() -> None:
    data = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0) + b"\x99"
    with pytest.raises(Malformed):
        logical_end(data, format_name="gif")


@pytest.mark.parametrize(("lossless", "frames"), [(True, 1), (False, 1), (True, 3), (False, 3)])
def test_webp_lossless_detection(lossless: bool, frames: int) -> None:
    assert webp_is_lossless(make_webp(16, 16, lossless=lossless, frames=frames)) is lossless
