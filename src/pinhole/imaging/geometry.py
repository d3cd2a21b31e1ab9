"""Where a resize lands: the box libvips' thumbnail is asked to fit, from options and source size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pinhole.imaging.options import TransformOptions

UNBOUNDED = 10_000_000
"""libvips' largest coordinate: a side the request leaves free."""


@dataclass(frozen=True, kw_only=True)
class Box:
    """Arguments for libvips thumbnail, the centre crop that follows, and the output size (one frame)."""

    width: int
    height: int
    size: Literal["down", "both", "force"]
    crop: tuple[int, int] | None
    output: tuple[int, int]


def plan_box(options: TransformOptions, *, source: tuple[int, int]) -> Box:
    """The thumbnail box for `options` on a source of `source` (width, height, as displayed).

    `inside` keeps the aspect ratio within the box; `cover` fills the box and crops the centre;
    `fill` stretches to it. Without `enlarge` nothing grows past the source: a cover/fill box
    larger than the source shrinks, keeping its own aspect ratio, until it fits.
    """
    if options.width is None and options.height is None:
        return Box(width=source[0], height=source[1], size="down", crop=None, output=source)
    if options.width is None or options.height is None or options.fit == "inside":
        return _inside(options, source)
    width, height = _fit_within(options.width, options.height, source, enlarge=options.enlarge)
    if options.fit == "fill":
        return Box(width=width, height=height, size="force", crop=None, output=(width, height))
    return _cover(width, height, source)


def _inside(options: TransformOptions, source: tuple[int, int]) -> Box:
    width, height = options.width or UNBOUNDED, options.height or UNBOUNDED
    scale = min(width / source[0], height / source[1])
    scale = scale if options.enlarge else min(scale, 1.0)
    output = (max(1, round(source[0] * scale)), max(1, round(source[1] * scale)))
    size: Literal["down", "both"] = "both" if options.enlarge else "down"
    return Box(width=width, height=height, size=size, crop=None, output=output)


def _cover(width: int, height: int, source: tuple[int, int]) -> Box:
    """Scale until the box is covered, then crop the centre (done per frame, so animations survive)."""
    scale = max(width / source[0], height / source[1])
    covering = (max(width, round(source[0] * scale)), max(height, round(source[1] * scale)))
    return Box(width=covering[0], height=covering[1], size="force", crop=(width, height), output=(width, height))


def _fit_within(width: int, height: int, source: tuple[int, int], *, enlarge: bool) -> tuple[int, int]:
    scale = 1.0 if enlarge else min(1.0, source[0] / width, source[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))
