"""Synthetic pictures with something to find: a salient object in a known place, a mark of a known colour.

Made with pyvips, as an upload would be; assertions measure where the object ended up.
"""

from __future__ import annotations

import functools

import numpy as np
import pyvips

from tests.support.images import to_array

CORNERS = {"top-left": (0.0, 0.0), "top-right": (1.0, 0.0), "bottom-left": (0.0, 1.0), "bottom-right": (1.0, 1.0)}


def _object(side: int) -> pyvips.Image:
    """A saturated, high-contrast red and yellow checkerboard: what attention and entropy both pick."""
    xyz = pyvips.Image.xyz(side, side)
    cells = ((xyz[0] / 6).cast("int") + (xyz[1] / 6).cast("int")) % 2
    return (cells == 0).ifthenelse([255, 0, 0], [255, 230, 0]).cast("uchar")


def scene_image(width: int, height: int, *, at: tuple[float, float], side: int | None = None) -> pyvips.Image:
    """A flat, muted grey-green background with the object placed at `at` (fractions: 0,0 top-left, 1,1
    bottom-right of the free space), `side` px square (a fifth of the shorter side by default)."""
    side = side or max(8, min(width, height) // 5)
    background = pyvips.Image.black(width, height).new_from_image([110, 120, 112]).cast("uchar")
    left, top = round((width - side) * at[0]), round((height - side) * at[1])
    return background.insert(_object(side), left, top).copy(interpretation="srgb")


@functools.cache
def scene_png(width: int, height: int, *, at: tuple[float, float], side: int | None = None) -> bytes:
    return bytes(scene_image(width, height, at=at, side=side).pngsave_buffer())


@functools.cache
def scene_gif(width: int, height: int, *, at: tuple[float, float], frames: int = 3) -> bytes:
    """An animated scene: the object stays put, a small dark square moves along the top edge's right end (so a
    crop that keeps a right-hand object still sees every frame differ: GIF encoders merge identical frames)."""
    pages = []
    for index in range(frames):
        page = scene_image(width, height, at=at)
        dot = pyvips.Image.black(6, 6).new_from_image([20, 20, 20]).cast("uchar")
        pages.append(page.insert(dot, width - 8 - index * 8, 2))
    strip = pyvips.Image.arrayjoin(pages, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.gint_type, "n-pages", frames)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [80] * frames)
    strip.set_type(pyvips.GValue.gint_type, "loop", 0)
    return bytes(strip.gifsave_buffer(keep="none"))


def object_share(data: bytes) -> float:
    """The fraction of the (first frame's) pixels that belong to the object: red to yellow, saturated."""
    pixels = to_array(data).astype(np.int32)
    found = (pixels[..., 0] > 200) & (pixels[..., 2] < 80)
    return float(found.mean())


def colour_share(data: bytes, colour: tuple[int, int, int], *, tolerance: int = 40) -> float:
    """The fraction of the first frame's pixels within `tolerance` of `colour` on every channel."""
    pixels = to_array(data).astype(np.int32)
    close = np.all(np.abs(pixels - np.array(colour)) <= tolerance, axis=-1)
    return float(close.mean())


def colour_share_in(data: bytes, colour: tuple[int, int, int], box: tuple[float, float, float, float]) -> float:
    """`colour_share` within a part of the picture given as fractions (left, top, right, bottom)."""
    pixels = to_array(data).astype(np.int32)
    rows, cols = pixels.shape[:2]
    part = pixels[round(box[1] * rows) : round(box[3] * rows), round(box[0] * cols) : round(box[2] * cols)]
    close = np.all(np.abs(part - np.array(colour)) <= 40, axis=-1)
    return float(close.mean())
