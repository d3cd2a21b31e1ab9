"""Turn an uploaded file into a trusted original: identified, limited, whole, single and clean.

Recipe: inspect the header, walk the container (truncation and polyglots), then either re-encode
without metadata (orientation applied) or prove the untouched file decodes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyvips

from pinhole.errors import CorruptImage
from pinhole.imaging.containers import Malformed, Truncated, logical_end, webp_is_lossless
from pinhole.imaging.formats import Format, SaveOption, writable_formats
from pinhole.imaging.frames import page_height
from pinhole.imaging.inspect import ImageLimits, InspectedImage, inspect_image
from pinhole.imaging.jpeg import strip_jpeg_metadata
from pinhole.imaging.loader import decode_error, load_all_frames, verify_decodes
from pinhole.imaging.orientation import autorotate

logger = logging.getLogger(__name__)

MAX_ZERO_PADDING = 4096
"""Zero bytes tolerated after an image's end: some tools pad files, and zeros carry no payload."""

# Originals are re-encoded once and resized many times, so they keep as much as possible:
# JPEG at Q95 (visually lossless), PNG lossless, GIF with its own palettes, WebP lossless
# when the upload was lossless.
_MASTER_OPTIONS: dict[str, dict[str, SaveOption]] = {
    # optimize_coding makes libjpeg hold every coefficient of the image (1.6 GB at 108 MP): not worth ~20%.
    "jpeg": {"Q": 95, "optimize_coding": False},
    "png": {"compression": 6},
    "gif": {"reuse": True},
    "webp": {"Q": 95, "effort": 4},
    # AV1 encoding time explodes with effort (6 MP: ~2 s at 2, ~20 s at 4).
    "avif": {"compression": "av1", "Q": 90, "effort": 2},
}


@dataclass(frozen=True, kw_only=True)
class PreparedOriginal:
    """The file to store. `width`/`height` are one frame as displayed (orientation applied)."""

    path: Path
    format: Format
    width: int
    height: int
    frames: int
    size: int


def prepare_original(
    src: Path,
    *,
    work_dir: Path,
    limits: ImageLimits,
    strip_metadata: bool,
    accepted: frozenset[str] | None = None,
) -> PreparedOriginal:
    """Check `src` and return what to store: `src` itself, or a clean re-encode inside `work_dir`.

    With `strip_metadata`, an image carrying EXIF/XMP/IPTC/comments or a non-upright orientation
    is re-encoded in its own format (JPEG at Q95, PNG/GIF lossless), orientation applied, keeping
    only the ICC profile. Formats libvips cannot write (HEIC) are kept as uploaded.
    """
    inspected = inspect_image(src, limits=limits, accepted=accepted)
    data = src.read_bytes()
    check_structure(data, format=inspected.format)
    if strip_metadata and _needs_rewrite(inspected):
        return _rewrite(src, data, inspected=inspected, work_dir=work_dir)
    verify_decodes(src, format=inspected.format)
    width, height = inspected.display_size
    return PreparedOriginal(
        path=src, format=inspected.format, width=width, height=height, frames=inspected.frames, size=len(data)
    )


def check_structure(data: bytes, *, format: Format) -> None:
    """Refuse a file that stops before its end marker, or carries a payload after it."""
    try:
        end = logical_end(data, format_name=format.name)
    except Truncated:
        raise CorruptImage("The image is truncated.", details={"reason": "truncated"}) from None
    except Malformed:
        raise CorruptImage("The image structure is malformed.", details={"reason": "malformed"}) from None
    trailer = data[end:]
    if len(trailer) > MAX_ZERO_PADDING or trailer.strip(b"\0"):
        raise CorruptImage(
            "The file carries extra data after the end of the image.", details={"reason": "trailing_data"}
        )


def _needs_rewrite(inspected: InspectedImage) -> bool:
    # JPEG comments are invisible to libvips, and the lossless strip is cheap: always pass JPEGs through it.
    dirty = inspected.has_metadata or inspected.orientation != 1 or inspected.format.name == "jpeg"
    if dirty and inspected.format.name not in writable_formats():
        logger.warning("keeping a %s original with its metadata: libvips cannot write it", inspected.format.name)
        return False
    return dirty


def _rewrite(src: Path, data: bytes, *, inspected: InspectedImage, work_dir: Path) -> PreparedOriginal:
    if inspected.format.name == "jpeg" and inspected.orientation == 1:
        return _strip_losslessly(src, data, inspected=inspected, work_dir=work_dir)
    # Rotation needs random access; without it a sequential pass keeps memory to a strip of the image.
    access: Literal["random", "sequential"] = "random" if inspected.orientation != 1 else "sequential"
    image = autorotate(load_all_frames(src, format=inspected.format, access=access))
    encoded = _encode_master(image, format=inspected.format, lossless=_is_lossless(data, inspected.format))
    path = _write(encoded, work_dir=work_dir, format=inspected.format)
    return PreparedOriginal(
        path=path,
        format=inspected.format,
        width=int(image.width),
        height=page_height(image),
        frames=inspected.frames,
        size=len(encoded),
    )


def _strip_losslessly(src: Path, data: bytes, *, inspected: InspectedImage, work_dir: Path) -> PreparedOriginal:
    try:
        stripped = strip_jpeg_metadata(data)
    except Malformed as error:
        raise CorruptImage("The JPEG structure is damaged.", details={"reason": "structure"}) from error
    width, height = inspected.display_size
    if stripped == data:  # nothing to strip: store the upload itself
        verify_decodes(src, format=inspected.format)
        return PreparedOriginal(path=src, format=inspected.format, width=width, height=height, frames=1, size=len(data))
    path = _write(stripped, work_dir=work_dir, format=inspected.format)
    try:
        verify_decodes(path, format=inspected.format)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return PreparedOriginal(
        path=path, format=inspected.format, width=width, height=height, frames=1, size=len(stripped)
    )


def _is_lossless(data: bytes, format: Format) -> bool:
    return format.name == "webp" and webp_is_lossless(data)


def _encode_master(image: pyvips.Image, *, format: Format, lossless: bool) -> bytes:
    options = dict(_MASTER_OPTIONS[format.name])
    if lossless:
        options["lossless"] = True
    try:
        encoded = pyvips.Operation.call(f"{format.saver}_buffer", image, keep="icc", **options)
    except pyvips.Error as error:
        raise decode_error(error, reason="decode") from error
    return bytes(encoded)


def _write(encoded: bytes, *, work_dir: Path, format: Format) -> Path:
    handle, name = tempfile.mkstemp(dir=work_dir, prefix="original-", suffix=f".{format.extension}")
    with os.fdopen(handle, "wb") as file:
        file.write(encoded)
    return Path(name)
