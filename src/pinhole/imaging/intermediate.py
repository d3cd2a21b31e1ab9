"""A high-quality 2048-px intermediate of a large original, from which small variants are rendered.

Decoding dominates a small render of a large photo: 4000x3000 JPEG -> w=800 JPEG took ~60 ms of CPU, ~30 ms from a
2048-px JPEG intermediate (Q92, no chroma subsampling), at the same SSIM against an unencoded reference (0.9083 vs
0.9078) and 1.4% more bytes (bench/peers.py photo, measured in-process). The intermediate is made once per original
(~100 ms), only for originals asked for a second variant (services/variants.py), and only where it cannot lose detail:
a source of at least MIN_SOURCE_EDGE px on its long side, one frame, no alpha, for outputs whose long side is at
most half the intermediate's (so it is always shrunk at least 2x, like the original).
"""

from __future__ import annotations

from typing import cast

import pyvips

from pinhole.imaging import sources
from pinhole.imaging.geometry import Plan
from pinhole.imaging.options import TransformOptions

EDGE = 2048
QUALITY = 92
CANONICAL = f"intermediate-{EDGE}-jpeg-q{QUALITY}"  # never a TransformOptions canonical (those start with `w`)
MIN_SOURCE_EDGE = 3072
MAX_OUTPUT_EDGE = EDGE // 2


def source_qualifies(header: pyvips.Image, *, display: tuple[int, int], frames: int) -> bool:
    """An original large enough to gain from an intermediate, and that a JPEG intermediate represents fully."""
    return frames == 1 and not header.hasalpha() and max(display) >= MIN_SOURCE_EDGE


def target(geometry: Plan) -> tuple[int, int]:
    """The size the load step produces for `geometry` (the whole picture, before any region or window is cut)."""
    return geometry.load


def may_serve(options: TransformOptions) -> bool:
    """False when no source could make `options` small enough for the intermediate (no side asked, or one above
    the limit): the service then does not even read it."""
    sides = [side for side in (options.width, options.height) if side is not None]
    return bool(sides) and max(sides) <= MAX_OUTPUT_EDGE


def serves(geometry: Plan) -> bool:
    """True when a render planned as `geometry` may start from the intermediate instead of the original."""
    return max(target(geometry)) <= MAX_OUTPUT_EDGE


def make(
    source: sources.Source, *, colour: dict[str, str], decoded: pyvips.Image | None = None
) -> tuple[bytes, int, int]:
    """The intermediate of `source` (orientation applied, sRGB, no metadata), its width and height; from `decoded`
    where libvips cannot open `source` by itself (formats Pillow decodes, AVIF sequences)."""
    if decoded is not None:
        image = decoded.thumbnail_image(EDGE, height=EDGE, size="down", **colour)
    else:
        image = pyvips.Image.thumbnail_source(sources.vips_source(source), EDGE, height=EDGE, size="down", **colour)
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    data = bytes(image.jpegsave_buffer(Q=QUALITY, keep="none", subsample_mode="off", optimize_coding=True))
    return data, int(image.width), int(image.height)


def load(intermediate: bytes, *, geometry: Plan) -> pyvips.Image:
    """The intermediate resized to exactly the size rendering from the original gives (computed from the original's
    size, so both paths make the same dimensions)."""
    width, height = target(geometry)
    return cast(pyvips.Image, pyvips.Image.thumbnail_buffer(intermediate, width, height=height, size="force"))
