from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pinhole.errors import CorruptImage, TooManyFrames, UnsupportedImageFormat
from pinhole.imaging.ingest import MAX_ZERO_PADDING, prepare_original
from pinhole.imaging.inspect import ImageLimits
from tests.imaging.conftest import WriteFile
from tests.support.images import (
    HTML_PAYLOAD,
    assert_image,
    exif_fields,
    frame_count,
    make_avif,
    make_cmyk_jpeg,
    make_gif,
    make_jpeg,
    make_png,
    make_webp,
    metadata_fields,
    open_image,
    photo,
    polyglot,
    red_block_corner,
    similarity,
    truncated,
)

MAKERS: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: make_jpeg(60, 40),
    "progressive-jpeg": lambda: bytes(photo(60, 40).jpegsave_buffer(interlace=True, restart_interval=1)),
    "png": lambda: make_png(60, 40, alpha=True),
    "gif": lambda: make_gif(60, 40, frames=3),
    "webp": lambda: make_webp(60, 40),
    "animated-webp": lambda: make_webp(60, 40, frames=3),
    "avif": lambda: make_avif(60, 40),
}
FORMAT_OF = {"progressive-jpeg": "jpeg", "animated-webp": "webp"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(
    orientation: int, work_dir: Path, limits: ImageLimits, upload: WriteFile
) -> None:
    src = upload(make_jpeg(48, 32, orientation=orientation), "turned.jpg")
    prepared = prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=True)
    data = prepared.path.read_bytes()
    assert (prepared.width, prepared.height) == (48, 32)
    assert_image(data, format="jpeg", width=48, height=32)
    assert red_block_corner(data) == "top-left"
    assert "orientation" not in open_image(data).get_fields()


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_unstripped_originals_report_displayed_size(
    orientation: int, work_dir: Path, limits: ImageLimits, upload: WriteFile
) -> None:
    src = upload(make_jpeg(48, 32, orientation=orientation), "turned.jpg")
    prepared = prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=False)
    assert (prepared.path, prepared.width, prepared.height) == (src, 48, 32)


def test_metadata_is_stripped_but_the_icc_profile_kept(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    original = make_jpeg(64, 48, icc=True)
    assert {"exif-data", "xmp-data", "icc-profile-data"} <= metadata_fields(original)
    assert any("GPS" in name for name in exif_fields(original))
    prepared = prepare_original(upload(original, "gps.jpg"), work_dir=work_dir, limits=limits, strip_metadata=True)
    data = prepared.path.read_bytes()
    assert metadata_fields(data) == {"icc-profile-data"}
    assert exif_fields(data) == {}
    assert open_image(data).get("icc-profile-data") == open_image(original).get("icc-profile-data")
    assert prepared.path.parent == work_dir
    assert prepared.size == len(data)
    assert similarity(original, data) > 0.95


@pytest.mark.parametrize(
    ("data", "fmt", "frames"),
    [
        (make_png(40, 30, exif=True), "png", 1),
        (make_png(40, 30, exif=True, sixteen_bit=True), "png", 1),
        (make_webp(40, 30, exif=True), "webp", 1),
        (make_webp(40, 30, exif=True, frames=3), "webp", 3),
    ],
    ids=["png", "png16", "webp", "animated-webp"],
)
def test_stripping_keeps_format_frames_and_depth(
    work_dir: Path, limits: ImageLimits, upload: WriteFile, data: bytes, fmt: str, frames: int
) -> None:
    prepared = prepare_original(upload(data, "x"), work_dir=work_dir, limits=limits, strip_metadata=True)
    clean = prepared.path.read_bytes()
    assert_image(clean, format=fmt, width=40, height=30, frames=frames)
    assert metadata_fields(clean) == set()
    assert open_image(clean).format == open_image(data).format
    assert similarity(data, clean) > 0.95


def test_animated_webp_frames_are_each_turned(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    data = make_webp(40, 30, frames=3, orientation=6, lossless=True)
    prepared = prepare_original(upload(data, "x"), work_dir=work_dir, limits=limits, strip_metadata=True)
    clean = prepared.path.read_bytes()
    assert (prepared.width, prepared.height, prepared.frames) == (30, 40, 3)
    assert_image(clean, format="webp", width=30, height=40, frames=3)
    assert red_block_corner(clean) == "top-right"  # stored top-left, turned a quarter clockwise


def test_lossless_webp_stays_lossless(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    data = make_webp(40, 30, exif=True, lossless=True)
    prepared = prepare_original(upload(data, "x"), work_dir=work_dir, limits=limits, strip_metadata=True)
    assert b"VP8L" in prepared.path.read_bytes()[:64]


@pytest.mark.parametrize("data", [make_jpeg(40, 30, orientation=6), make_png(40, 30, exif=True)])
def test_strip_metadata_false_keeps_the_bytes(
    work_dir: Path, limits: ImageLimits, upload: WriteFile, data: bytes
) -> None:
    src = upload(data, "keep")
    prepared = prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=False)
    assert prepared.path == src
    assert src.read_bytes() == data
    assert prepared.size == len(data)
    assert list(work_dir.iterdir()) == []


@pytest.mark.parametrize(
    "data",
    [make_jpeg(40, 30, exif=False), make_png(40, 30), make_gif(40, 30, frames=2), make_cmyk_jpeg(40, 30)],
    ids=["jpeg", "png", "gif", "cmyk"],
)
def test_clean_uploads_are_kept_as_they_are(
    work_dir: Path, limits: ImageLimits, upload: WriteFile, data: bytes
) -> None:
    src = upload(data, "clean")
    prepared = prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=True)
    assert (prepared.path, prepared.width, prepared.height) == (src, 40, 30)
    assert prepared.frames == frame_count(data)


def test_cmyk_with_profile_keeps_its_profile(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    data = make_cmyk_jpeg(40, 30, profile=True)
    prepared = prepare_original(upload(data, "cmyk.jpg"), work_dir=work_dir, limits=limits, strip_metadata=True)
    assert prepared.path.read_bytes() == data


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("keep", [0.3, 0.7, 0.98])
def test_truncated_files_are_corrupt(
    work_dir: Path, limits: ImageLimits, upload: WriteFile, kind: str, keep: float
) -> None:
    src = upload(truncated(MAKERS[kind](), keep=keep), "cut")
    with pytest.raises(CorruptImage):
        prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=True)


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("payload", [None, HTML_PAYLOAD, b"\x00" * 8 + b"x"], ids=["zip", "html", "late-byte"])
def test_polyglots_are_corrupt(
    work_dir: Path, limits: ImageLimits, upload: WriteFile, kind: str, payload: bytes | None
) -> None:
    src = upload(polyglot(MAKERS[kind](), payload=payload), "two-faced")
    with pytest.raises(CorruptImage):
        prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=False)


@pytest.mark.parametrize("kind", MAKERS)
def test_zero_padding_is_tolerated(work_dir: Path, limits: ImageLimits, upload: WriteFile, kind: str) -> None:
    data = MAKERS[kind]()
    src = upload(data + b"\x00" * MAX_ZERO_PADDING, "padded")
    prepared = prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=False)
    assert prepared.format.name == FORMAT_OF.get(kind, kind)
    src.write_bytes(data + b"\x00" * (MAX_ZERO_PADDING + 1))
    with pytest.raises(CorruptImage):
        prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=False)


def test_damaged_pixel_data_is_corrupt(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    """Structure intact (ends with IEND), compressed pixels scrambled: only decoding can tell."""
    data = bytearray(make_png(60, 40))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\x13" * 40
    with pytest.raises(CorruptImage):
        prepare_original(upload(bytes(data), "x.png"), work_dir=work_dir, limits=limits, strip_metadata=False)


def test_text_with_an_image_name_is_unsupported(work_dir: Path, limits: ImageLimits, upload: WriteFile) -> None:
    src = upload(b"<html><body>not a picture</body></html>", "holiday.jpg")
    with pytest.raises(UnsupportedImageFormat):
        prepare_original(src, work_dir=work_dir, limits=limits, strip_metadata=True)


def test_limits_apply_before_anything_else(work_dir: Path, upload: WriteFile) -> None:
    src = upload(make_gif(8, 8, frames=4), "anim.gif")
    with pytest.raises(TooManyFrames):
        prepare_original(
            src, work_dir=work_dir, limits=ImageLimits(max_pixels=10**6, max_frames=3), strip_metadata=True
        )
