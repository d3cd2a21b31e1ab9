"""What a page shows while a picture loads: BlurHash, ThumbHash, the dominant colour and a tiny LQIP data URI.

All four come from one small thumbnail taken from the decode that ingest does anyway (see docs/formats.md).
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from typing import cast

import blurhash
import fast_thumbhash
import pyvips

from pinhole.imaging import pillow_codecs
from pinhole.imaging.formats import Format
from pinhole.imaging.frames import page_height
from pinhole.imaging.loader import decode_error
from pinhole.imaging.orientation import autorotate

SMALL_SIZE = 32
"""Longest side of the thumbnail every placeholder is computed from (ThumbHash takes at most 100)."""
LQIP_QUALITY = 40
BLURHASH_COMPONENTS = 4
WHITE = [255, 255, 255]


@dataclass(frozen=True, kw_only=True)
class Placeholder:
    blurhash: str
    thumbhash: str
    """Base64, as the reference decoders take it."""
    color: str
    """`#rrggbb`."""
    lqip: str
    """A `data:image/webp;base64,...` URI of a few hundred bytes (half the thumbnail: at most 16 px)."""


def small_from(image: pyvips.Image) -> pyvips.Image:
    """The first frame of a decoded image as at most `SMALL_SIZE` px, upright, 8-bit sRGB with an alpha band.

    Shrinking reads every pixel of `image` (every frame of a strip), so computing this is also proof that the
    whole file decodes: callers use it in place of a separate verification pass.
    """
    frame_height = page_height(image)
    factor = max(1, max(image.width, frame_height) // SMALL_SIZE)
    # Across first, then into memory (a narrow strip), then down: shrinking down a streamed decode stalls it
    # (libvips' sequential line cache), and the narrow strip is at most 1/`factor` of the image.
    narrow = (image.shrinkh(factor) if factor > 1 else image).copy_memory()
    shrunk = narrow.shrinkv(factor) if factor > 1 else narrow
    first = shrunk.crop(0, 0, shrunk.width, max(1, min(shrunk.height, frame_height // factor)))
    first = first.thumbnail_image(SMALL_SIZE, height=SMALL_SIZE, size="down")
    return _rgba8(autorotate(_with_orientation(first, image))).copy_memory()


def _with_orientation(small: pyvips.Image, source: pyvips.Image) -> pyvips.Image:
    if "orientation" not in source.get_fields():
        return small
    small = small.copy()
    small.set_type(pyvips.GValue.gint_type, "orientation", int(source.get("orientation")))
    return small


def _rgba8(image: pyvips.Image) -> pyvips.Image:
    if "icc-profile-data" in image.get_fields():
        try:
            image = image.icc_transform("srgb", embedded=True)
        except pyvips.Error:
            image = image.copy()  # a broken profile: take the numbers as sRGB, as browsers do
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if not image.hasalpha():
        image = image.bandjoin_const([255])
    return cast(pyvips.Image, image)


def compute(small: pyvips.Image) -> Placeholder:
    """All four placeholders of an image, from its `small_from` thumbnail."""
    width, height = int(small.width), int(small.height)
    rgba = bytes(small.write_to_memory())
    # BlurHash (pure Python, cost per pixel) and the LQIP need no more than half the thumbnail.
    tiny = small.shrink(2, 2).copy_memory() if min(width, height) >= 4 else small
    return Placeholder(
        blurhash=_blurhash(tiny),
        thumbhash=base64.b64encode(bytes(fast_thumbhash.rgba_to_thumb_hash(width, height, rgba))).decode(),
        color=_dominant_colour(rgba),
        lqip=_lqip(tiny),
    )


def compute_from_bytes(data: bytes, *, fmt: Format) -> Placeholder:
    """The placeholders of a stored original (for images stored before they were computed at upload)."""
    try:
        if fmt.decoder == "pillow":
            return compute(small_from(pillow_codecs.decode(data, fmt=fmt)))
        image = pyvips.Operation.call(f"{fmt.loader}_buffer", data, access="sequential")
        return compute(small_from(image))
    except pyvips.Error as error:
        raise decode_error(error, reason="decode") from error


def _blurhash(small: pyvips.Image) -> str:
    rgb = small.flatten(background=WHITE).cast("uchar")
    data, width = bytes(rgb.write_to_memory()), int(rgb.width)
    rows = [
        [list(data[offset : offset + 3]) for offset in range(row * width * 3, (row + 1) * width * 3, 3)]
        for row in range(int(rgb.height))
    ]
    # More components along the longer side, as the BlurHash authors suggest.
    across = BLURHASH_COMPONENTS if rgb.width >= rgb.height else 3
    down = BLURHASH_COMPONENTS if rgb.height > rgb.width else 3
    return str(blurhash.encode(rows, components_x=across, components_y=down))


def _dominant_colour(rgba: bytes) -> str:
    """The most common colour (in 4-bit-per-channel buckets) among visible pixels, as the mean of its bucket."""
    pixels = [rgba[offset : offset + 4] for offset in range(0, len(rgba), 4)]
    visible = [pixel for pixel in pixels if pixel[3] >= 128] or pixels
    buckets = Counter((r >> 4, g >> 4, b >> 4) for r, g, b, _ in visible)
    top = buckets.most_common(1)[0][0]
    members = [pixel for pixel in visible if (pixel[0] >> 4, pixel[1] >> 4, pixel[2] >> 4) == top]
    mean = [round(sum(pixel[channel] for pixel in members) / len(members)) for channel in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*mean)


def _lqip(tiny: pyvips.Image) -> str:
    encoded = bytes(tiny.webpsave_buffer(Q=LQIP_QUALITY, effort=4, keep="none", alpha_q=50))
    return "data:image/webp;base64," + base64.b64encode(encoded).decode()
