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
from pinhole.imaging import pillow_codecs
from pinhole.imaging.containers import (
    UNWALKED,
    Malformed,
    Truncated,
    dangerous_payload,
    jpeg_trailer_allowed,
    logical_end,
    strip_jxl_metadata,
    webp_is_lossless,
)
from pinhole.imaging.formats import Format, SaveOption, writable_formats
from pinhole.imaging.frames import page_height
from pinhole.imaging.heif_meta import strip_heif_metadata
from pinhole.imaging.inspect import ImageLimits, InspectedImage, inspect_image
from pinhole.imaging.jpeg import strip_jpeg_metadata
from pinhole.imaging.loader import decode_error, load_all_frames, load_for_check, verify_decodes
from pinhole.imaging.orientation import autorotate
from pinhole.imaging.placeholder import Placeholder, compute, small_from

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
    "tiff": {"compression": "deflate"},
}


# Formats whose metadata is removed from the bytes without touching the coded pictures.
_LOSSLESS_STRIPS = {"heic": strip_heif_metadata, "jxl": strip_jxl_metadata}


@dataclass(frozen=True, kw_only=True)
class PreparedOriginal:
    """The file to store. `width`/`height` are one frame as displayed (orientation applied)."""

    path: Path
    format: Format
    width: int
    height: int
    frames: int
    size: int
    placeholder: Placeholder | None = None


def prepare_original(
    src: Path,
    *,
    work_dir: Path,
    limits: ImageLimits,
    strip_metadata: bool,
    accepted: frozenset[str] | None = None,
    placeholders: bool = False,
) -> PreparedOriginal:
    """Check `src` and return what to store: `src` itself, or a clean copy or re-encode inside `work_dir`.

    With `strip_metadata`, an image carrying EXIF/XMP/IPTC/comments or a non-upright orientation
    is re-encoded in its own format (JPEG at Q95, PNG/GIF/TIFF lossless), orientation applied, keeping
    only the ICC profile. JPEGs lose their metadata segments losslessly; what cameras append after a
    JPEG (MPO frames, a motion photo's movie) is dropped. With `placeholders`, the decode that proves
    the file whole also yields its `Placeholder`.
    """
    inspected = inspect_image(src, limits=limits, accepted=accepted)
    whole = src.read_bytes()
    data = whole[: check_structure(whole, format=inspected.format)]
    if inspected.format.decoder == "pillow":
        return _prepare_with_pillow(
            src, whole, data, inspected=inspected, work_dir=work_dir, strip=strip_metadata, placeholders=placeholders
        )
    if strip_metadata and _needs_rewrite(inspected):
        return _rewrite(src, data, inspected=inspected, work_dir=work_dir, placeholders=placeholders)
    changed = len(data) != len(whole)
    return _keep(src, data, changed=changed, inspected=inspected, work_dir=work_dir, placeholders=placeholders)


def check_structure(data: bytes, *, format: Format) -> int:
    """Where the image ends: refuse a file that stops before its end marker or carries a payload after it.

    After a JPEG, further JPEG frames and a movie (MPO, motion photos) are allowed, and cut off: the returned
    offset is the end of the primary image. See docs/formats.md for the rule.
    """
    try:
        end = logical_end(data, format_name=format.name)
    except Truncated:
        raise CorruptImage("The image is truncated.", details={"reason": "truncated"}) from None
    except Malformed:
        raise CorruptImage("The image structure is malformed.", details={"reason": "malformed"}) from None
    trailer = data[end:]
    if format.name in UNWALKED and dangerous_payload(data):
        raise _polyglot()
    if format.name == "jpeg" and jpeg_trailer_allowed(trailer, max_padding=MAX_ZERO_PADDING):
        return end
    if len(trailer) > MAX_ZERO_PADDING or trailer.strip(b"\0"):
        raise _polyglot()
    return len(data)


def _polyglot() -> CorruptImage:
    return CorruptImage("The file carries extra data after the end of the image.", details={"reason": "trailing_data"})


def _keep(
    src: Path, data: bytes, *, changed: bool, inspected: InspectedImage, work_dir: Path, placeholders: bool
) -> PreparedOriginal:
    """Store `data`: the upload as it came, or (`changed`) stripped or cut to its primary image, losslessly."""
    path = _write(data, work_dir=work_dir, format=inspected.format) if changed else src
    try:
        longest = max(inspected.width, inspected.height)
        placeholder = _verify(path, format=inspected.format, longest=longest, placeholders=placeholders)
    except BaseException:
        if path != src:
            path.unlink(missing_ok=True)
        raise
    width, height = inspected.display_size
    return PreparedOriginal(
        path=path,
        format=inspected.format,
        width=width,
        height=height,
        frames=inspected.frames,
        size=len(data),
        placeholder=placeholder,
    )


def _verify(path: Path, *, format: Format, longest: int, placeholders: bool) -> Placeholder | None:
    """Decode every pixel to prove the file whole; with `placeholders`, keep a thumbnail of that same decode."""
    if not placeholders:
        verify_decodes(path, format=format, longest=longest)
        return None
    try:
        small = small_from(load_for_check(path, format=format, longest=longest))
    except pyvips.Error as error:
        raise decode_error(error, reason="decode") from error
    return compute(small)


def _prepare_with_pillow(
    src: Path, whole: bytes, data: bytes, *, inspected: InspectedImage, work_dir: Path, strip: bool, placeholders: bool
) -> PreparedOriginal:
    """HEIC, JPEG XL, BMP and APNG: decode with Pillow (the verification), keep the bytes where they are clean."""
    fmt = inspected.format
    if strip and inspected.has_metadata and fmt.name in _LOSSLESS_STRIPS:
        try:
            data = _LOSSLESS_STRIPS[fmt.name](data)
        except (Malformed, Truncated) as error:
            raise CorruptImage("The image structure is malformed.", details={"reason": "malformed"}) from error
    decoded = pillow_codecs.decode(data, fmt=fmt)
    if strip and inspected.has_metadata and fmt.writable and not fmt.quality:  # lossless only (not AVIF)
        data = pillow_codecs.encode(decoded, fmt=fmt)  # APNG: text and EXIF chunks go, pixels stay
    elif strip and inspected.has_metadata and fmt.name not in _LOSSLESS_STRIPS:
        logger.warning("keeping a %s original with its metadata: it cannot be removed losslessly", fmt.name)
    placeholder = compute(small_from(decoded)) if placeholders else None
    path = src if data == whole else _write(data, work_dir=work_dir, format=fmt)
    return PreparedOriginal(
        path=path,
        format=fmt,
        width=int(decoded.width),
        height=page_height(decoded),
        frames=inspected.frames,
        size=len(data),
        placeholder=placeholder,
    )


def _needs_rewrite(inspected: InspectedImage) -> bool:
    # JPEG comments are invisible to libvips, and the lossless strip is cheap: always pass JPEGs through it.
    # A TIFF can hide anything in tags libvips does not show, and other pages: it is always re-encoded.
    dirty = inspected.has_metadata or inspected.orientation != 1 or inspected.format.name in ("jpeg", "tiff")
    if dirty and inspected.format.name not in writable_formats():
        logger.warning("keeping a %s original with its metadata: libvips cannot write it", inspected.format.name)
        return False
    return dirty


def _rewrite(
    src: Path, data: bytes, *, inspected: InspectedImage, work_dir: Path, placeholders: bool
) -> PreparedOriginal:
    if inspected.format.name == "jpeg" and inspected.orientation == 1:
        return _strip_losslessly(src, data, inspected=inspected, work_dir=work_dir, placeholders=placeholders)
    # Rotation needs random access; without it a sequential pass keeps memory to a strip of the image.
    access: Literal["random", "sequential"] = "random" if inspected.orientation != 1 else "sequential"
    image = autorotate(load_all_frames(src, format=inspected.format, access=access))
    encoded = _encode_master(image, format=inspected.format, lossless=_is_lossless(data, inspected.format))
    path = _write(encoded, work_dir=work_dir, format=inspected.format)
    try:
        # Random access decoded the pixels once into memory; a sequential pass is read again for the thumbnail.
        placeholder = (
            _placeholder_after_rewrite(src, image, inspected=inspected, access=access) if placeholders else None
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return PreparedOriginal(
        path=path,
        format=inspected.format,
        width=int(image.width),
        height=page_height(image),
        frames=inspected.frames,
        size=len(encoded),
        placeholder=placeholder,
    )


def _placeholder_after_rewrite(
    src: Path, image: pyvips.Image, *, inspected: InspectedImage, access: Literal["random", "sequential"]
) -> Placeholder:
    source = image if access == "random" else autorotate(load_all_frames(src, format=inspected.format))
    try:
        return compute(small_from(source))
    except pyvips.Error as error:
        raise decode_error(error, reason="decode") from error


def _strip_losslessly(
    src: Path, data: bytes, *, inspected: InspectedImage, work_dir: Path, placeholders: bool
) -> PreparedOriginal:
    try:
        stripped = strip_jpeg_metadata(data)
    except Malformed as error:
        raise CorruptImage("The JPEG structure is damaged.", details={"reason": "structure"}) from error
    changed = stripped != data or src.stat().st_size != len(data)  # stripped, or a camera's trailer cut off
    return _keep(src, stripped, changed=changed, inspected=inspected, work_dir=work_dir, placeholders=placeholders)


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
