"""Animations in libvips are one tall strip of frames (`page-height` each); work frame by frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pyvips


def page_height(image: pyvips.Image) -> int:
    """Height of one frame (the whole image when it is not an animation strip)."""
    if "page-height" not in image.get_fields():
        return int(image.height)
    height = int(image.get("page-height"))
    return height if 0 < height <= image.height and image.height % height == 0 else int(image.height)


def frame_count(image: pyvips.Image) -> int:
    return int(image.height) // page_height(image)


def map_frames(image: pyvips.Image, step: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Apply `step` to every frame and stack the results back into a strip."""
    height = page_height(image)
    if height == image.height:
        return step(image)
    frames = [step(image.crop(0, top, image.width, height)) for top in range(0, image.height, height)]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", int(frames[0].height))
    return cast(pyvips.Image, strip)
