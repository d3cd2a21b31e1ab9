"""Where a resize lands: how big to load the source, what to cut out of it and what comes out, from the
options and the source size. Pure arithmetic; the pipeline does the pixels.

Order of operations (docs/transforms.md): crop region -> scale -> rotate/flip -> cover window or pad canvas.
Sizes the request gives are those of the output, after rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.errors import InvalidTransform
from pinhole.imaging.options import TransformOptions

Size = tuple[int, int]
Rect = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True, kw_only=True)
class Plan:
    """`load`: the whole (displayed) source scaled to this size; `region`: then cut out of it (before rotating);
    `window`: the cover crop kept (after rotating); `canvas`: the pad canvas; `output`: one output frame."""

    load: Size
    region: Rect | None
    window: Size | None
    canvas: Size | None
    output: Size


def plan(options: TransformOptions, *, source: Size) -> Plan:
    """The plan for `options` on a source of `source` (width, height, as displayed).

    `inside` keeps the aspect ratio within the box; `cover` fills the box and crops; `fill` stretches to it;
    `outside` covers the box without cropping; `pad` fits inside and letterboxes onto exactly the box.
    Without `enlarge` nothing grows past the source: a cover/fill box larger than the source shrinks, keeping its
    own aspect ratio, until it fits (a pad canvas keeps its size; only the picture on it stays small).
    """
    region = _region(options, source)
    turned = options.rotate in (90, 270)
    oriented = (region[3], region[2]) if turned else (region[2], region[3])
    scale, window, canvas = _scale(options, oriented)
    kx, ky = (scale[1], scale[0]) if turned else scale
    load = (max(1, round(source[0] * kx)), max(1, round(source[1] * ky)))
    cut = _scaled_region(region, (kx, ky), load) if options.crop is not None else None
    kept = (cut[2], cut[3]) if cut is not None else load
    output = canvas or window or ((kept[1], kept[0]) if turned else kept)
    return Plan(load=load, region=cut, window=window, canvas=canvas, output=output)


def _region(options: TransformOptions, source: Size) -> Rect:
    if options.crop is None:
        return 0, 0, source[0], source[1]
    found = options.crop.in_pixels(source)
    if found is None:
        raise InvalidTransform("crop lies outside the image.", field="crop")
    return found


def _scale(options: TransformOptions, size: Size) -> tuple[tuple[float, float], Size | None, Size | None]:
    """(x, y) scale of the oriented region, and the cover window or pad canvas when there is one."""
    w, h = options.width, options.height
    if w is None and h is None:
        return (1.0, 1.0), None, None
    if w is None or h is None or options.fit == "inside":
        k = min((w or 10**9) / size[0], (h or 10**9) / size[1])
        return _same(_capped(k, options.enlarge)), None, None
    if options.fit == "outside":
        return _same(_capped(max(w / size[0], h / size[1]), options.enlarge)), None, None
    if options.fit == "pad":
        return _same(_capped(min(w / size[0], h / size[1]), options.enlarge)), None, (w, h)
    bw, bh = _fit_within(w, h, size, enlarge=options.enlarge)
    if options.fit == "fill":
        return (bw / size[0], bh / size[1]), None, None
    k = max(bw / size[0], bh / size[1])
    return _same(k), (bw, bh), None


def _same(k: float) -> tuple[float, float]:
    return k, k


def _capped(k: float, enlarge: bool) -> float:
    return k if enlarge else min(k, 1.0)


def _fit_within(width: int, height: int, source: Size, *, enlarge: bool) -> Size:
    scale = 1.0 if enlarge else min(1.0, source[0] / width, source[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scaled_region(region: Rect, scale: tuple[float, float], load: Size) -> Rect:
    left, top = min(load[0] - 1, round(region[0] * scale[0])), min(load[1] - 1, round(region[1] * scale[1]))
    width = max(1, min(load[0] - left, round(region[2] * scale[0])))
    height = max(1, min(load[1] - top, round(region[3] * scale[1])))
    return left, top, width, height


def place(free: Size, fractions: tuple[float, float]) -> tuple[int, int]:
    """Offset of a window in a space `free` pixels larger, by compass fractions (0 left/top, 1 right/bottom)."""
    return round(free[0] * fractions[0]), round(free[1] * fractions[1])


def around(point: tuple[float, float], window: Size, size: Size) -> tuple[int, int]:
    """Offset of a `window` centred on `point` (pixels) inside an image of `size`, kept within it."""
    left = min(max(0, round(point[0] - window[0] / 2)), size[0] - window[0])
    top = min(max(0, round(point[1] - window[1] / 2)), size[1] - window[1])
    return left, top
