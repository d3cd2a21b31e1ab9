"""Open image files with one named libvips loader (never libvips' own guess) and prove they decode."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, cast

import pyvips

from pinhole.errors import CorruptImage
from pinhole.imaging.formats import Format

logger = logging.getLogger(__name__)

Access = Literal["random", "sequential"]


def load_file(path: Path, *, loader: str, access: Access = "sequential", **options: object) -> pyvips.Image:
    """Open `path` with exactly `loader`; only the header is read until pixels are asked for.

    `fail_on="error"` makes truncated or damaged data an error instead of grey pixels; warnings
    (an odd ICC chunk, say) are still tolerated, as browsers tolerate them.
    """
    try:
        image = pyvips.Operation.call(loader, str(path), access=access, fail_on="error", **options)
    except pyvips.Error as error:
        raise decode_error(error, reason="header") from error
    return cast(pyvips.Image, image)


def load_all_frames(path: Path, *, format: Format, access: Access = "sequential") -> pyvips.Image:
    """Every frame of an animation, stacked vertically (`page-height` tall each), or the one image."""
    frames = {"n": -1} if format.animation else {}
    return load_file(path, loader=format.loader, access=access, **frames)


JPEG_SHRINKS = (8, 4, 2)
CHECK_MIN_SIDE = 64
"""A shrunk JPEG decode keeps at least this many pixels on its longer side (placeholders are made from it)."""


def load_for_check(path: Path, *, format: Format, longest: int) -> pyvips.Image:
    """Every frame, ready to be decoded once to prove the file whole (streaming).

    A JPEG is decoded with libjpeg's DCT scaling (1/2 to 1/8): every coefficient of every block is still
    entropy-decoded, so damage and truncation are found as before, but the inverse transform and colour
    conversion run at a fraction of the size, which makes the check (and the placeholder thumbnail taken from
    it) several times cheaper than a full-size decode.
    """
    if format.name == "jpeg":
        shrink = next((factor for factor in JPEG_SHRINKS if longest // factor >= CHECK_MIN_SIDE), 1)
        return load_file(path, loader=format.loader, shrink=shrink)
    return load_all_frames(path, format=format)


def verify_decodes(path: Path, *, format: Format, longest: int) -> None:
    """Decode every pixel of every frame (streaming, nothing kept) to prove the file is whole."""
    try:
        load_for_check(path, format=format, longest=longest).avg()
    except pyvips.Error as error:
        raise decode_error(error, reason="decode") from error


def decode_error(error: pyvips.Error, *, reason: str) -> CorruptImage:
    """The public error for a libvips failure on client data; the libvips detail goes to the log."""
    logger.info("libvips refused an image (%s): %s", reason, error)
    message = "The image is damaged or incomplete and could not be decoded."
    return CorruptImage(message, details={"reason": reason})
