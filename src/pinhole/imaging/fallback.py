"""The neutral placeholder served instead of a 4xx for an image the viewer may not see.

A light grey square with a darker picture-frame mark (a sun over two hills): deliberate, not
broken-looking, and identical whether the image is missing, private or expired, so it leaks nothing.
"""

from __future__ import annotations

import functools
from typing import cast

import pyvips

SIZE = 256
BACKGROUND = 236
MARK = 184


@functools.cache
def fallback_webp() -> bytes:
    """The placeholder as lossless WebP (made once, at first use)."""
    grey = _mark().ifthenelse(MARK, BACKGROUND).cast("uchar")
    image = grey.bandjoin([grey, grey]).copy(interpretation="srgb")
    return bytes(image.webpsave_buffer(lossless=True, keep="none"))


def _mark() -> pyvips.Image:
    """A mask: the frame's outline, the sun and the hills inside it."""
    xyz = pyvips.Image.xyz(SIZE, SIZE)
    x, y = xyz[0], xyz[1]
    outer = _rectangle(x, y, (56, 72, 200, 184))
    inner = _rectangle(x, y, (66, 82, 190, 174))
    sun = ((x - 156) ** 2 + (y - 110) ** 2) < 13**2
    hills = _hill(x, y, peak=(104, 116), slope=1.3) | _hill(x, y, peak=(150, 136), slope=1.0)
    return cast(pyvips.Image, (outer & ~inner) | ((sun | hills) & inner))


def _rectangle(x: pyvips.Image, y: pyvips.Image, box: tuple[int, int, int, int]) -> pyvips.Image:
    left, top, right, bottom = box
    return cast(pyvips.Image, (x >= left) & (x < right) & (y >= top) & (y < bottom))


def _hill(x: pyvips.Image, y: pyvips.Image, *, peak: tuple[int, int], slope: float) -> pyvips.Image:
    return cast(pyvips.Image, y >= (x - peak[0]).abs() * slope + peak[1])
