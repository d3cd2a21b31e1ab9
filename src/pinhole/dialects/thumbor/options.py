"""A thumbor request as the one transform parser's fields (`api.transform_query.TransformFields`).

`WxH` crops to fill (thumbor's default, enlarging unless `no_upscale()`); `fit-in` fits inside without enlarging
(unless `upscale()`); `full-fit-in` scales until the box is covered, without cropping; `adaptive-` turns the box to
the image's orientation; `0` or no side is proportional, `orig` the original's side; `-W`/`-H` mirror and turn
upside down; `AxB:CxD` cuts a region first; `halign`/`valign` pick the kept side, `smart` pinhole's attention
crop. Filters: see `FILTERS`; docs/proxies.md lists them and what is refused (`trim`, `round_corners`,
`max_bytes`, `fill(auto|blur)`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.thumbor.url import Filter, ThumborUrl
from pinhole.errors import InvalidTransform
from pinhole.proxies.sources import SCHEME

NO_OPS = frozenset({"strip_exif", "strip_icc"})  # pinhole strips metadata from every stored original
UNSUPPORTED = frozenset({"round_corners", "max_bytes"})
FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp", "gif": "gif", "avif": "avif", "heic": "heic"}
COLOURS = {"white": "ffffff", "black": "000000", "red": "ff0000", "green": "008000", "blue": "0000ff",
           "gray": "808080", "grey": "808080", "yellow": "ffff00", "transparent": "ffffff00"}  # fmt: skip
ALIGN = {("left", "top"): "nw", ("center", "top"): "n", ("right", "top"): "ne", ("left", "middle"): "w",
         ("center", "middle"): "ce", ("right", "middle"): "e", ("left", "bottom"): "sw",
         ("center", "bottom"): "s", ("right", "bottom"): "se"}  # fmt: skip


@dataclass(frozen=True)
class Filtered:
    """What the filters ask for."""

    quality: int | None = None
    format: str | None = None
    upscale: bool | None = None
    blur: str | None = None
    sharpen: str | None = None
    grayscale: bool = False
    rotate: str | None = None
    bg: str | None = None
    fill: bool = False  # fill(colour): pad a fit-in box
    focal: tuple[float, float] | None = None
    proportion: float | None = None
    wm: tuple[str, ...] | None = None


def fields_for(url: ThumborUrl, image: Image) -> TransformFields:
    if url.trim:
        raise InvalidTransform("Not supported: trim.")
    asked = _read_filters(url.filters, image)
    width, height = _side(url.width, image.width), _side(url.height, image.height)
    if url.adaptive and width and height and (width > height) != (image.width > image.height):
        width, height = height, width
    if url.full_fit_in and width and height:
        scale = max(width / image.width, height / image.height)
        width, height = max(1, round(image.width * scale)), None
    if asked.proportion is not None:
        width, height = _proportion(width, height, image, asked.proportion)
    box = url.fit_in or url.full_fit_in
    enlarge = asked.upscale if asked.upscale is not None else not box
    fit = ("pad" if asked.fill and url.fit_in else "inside") if box else "cover"
    gravity, fp = _placement(url, asked)
    if asked.rotate is not None and int(asked.rotate) % 180 == 90:
        width, height = height, width  # thumbor rotates the resized picture; pinhole sizes the rotated output
    fields = TransformFields(
        w=width, h=height, q=asked.quality, format=asked.format, fit=fit, enlarge=bool(enlarge),
        crop=_crop(url.crop), gravity=gravity, fp=fp, blur=asked.blur, sharpen=asked.sharpen,
        grayscale=asked.grayscale, rotate=asked.rotate, bg=asked.bg, flop=url.flip, flip=url.flip_v,
    )  # fmt: skip
    return replace(fields, **_watermark(asked.wm))


def _side(value: str | None, original: int) -> int | None:
    if value is None or value == "0":
        return None
    return original if value == "orig" else int(value)


def _proportion(width: int | None, height: int | None, image: Image, ratio: float) -> tuple[int | None, int | None]:
    if width is None and height is None:
        return max(1, round(image.width * ratio)), None
    return tuple(max(1, round(side * ratio)) if side else None for side in (width, height))  # type: ignore[return-value]


def _crop(raw: str | None) -> str | None:
    """thumbor's `AxB:CxD` (left x top : right x bottom) as a pixel region."""
    if raw is None:
        return None
    first, second = raw.split(":")
    left, top = (int(part) for part in first.split("x"))
    right, bottom = (int(part) for part in second.split("x"))
    if right <= left or bottom <= top:
        raise InvalidTransform("Manual crops need right > left and bottom > top.")
    return f"{left},{top},{right - left},{bottom - top}"


def _placement(url: ThumborUrl, asked: Filtered) -> tuple[str | None, str | None]:
    if asked.focal is not None:
        return None, f"{asked.focal[0]:.4f},{asked.focal[1]:.4f}"
    if url.halign not in (None, "center") or url.valign not in (None, "middle"):
        return ALIGN[url.halign or "center", url.valign or "middle"], None
    return ("sm" if url.smart else None), None


def _read_filters(filters: tuple[Filter, ...], image: Image) -> Filtered:
    asked = Filtered()
    for item in filters:
        if item.name in NO_OPS:
            continue
        if item.name in UNSUPPORTED:
            raise InvalidTransform(f"Filter not supported: {item.name}.", field="filters")
        read = FILTERS.get(item.name)
        if read is None:
            raise InvalidTransform(f"Unknown filter: {item.name}.", field="filters")
        asked = read(asked, item, image)
    return asked


def _quality(asked: Filtered, item: Filter, image: Image) -> Filtered:
    return replace(asked, quality=_int_arg(item))


def _format(asked: Filtered, item: Filter, image: Image) -> Filtered:
    name = FORMATS.get(item.args[0].lower()) if len(item.args) == 1 else None
    if name is None:
        raise InvalidTransform(f"format() takes one of {', '.join(FORMATS)}.", field="filters")
    return replace(asked, format=name)


def _upscale(asked: Filtered, item: Filter, image: Image) -> Filtered:
    return replace(asked, upscale=item.name == "upscale")


def _blur(asked: Filtered, item: Filter, image: Image) -> Filtered:
    """blur(radius[, sigma]): thumbor's sigma defaults to the radius."""
    numbers = _numbers(item, 1, 2)
    return replace(asked, blur=f"{numbers[-1]:g}")


def _sharpen(asked: Filtered, item: Filter, image: Image) -> Filtered:
    """sharpen(amount, radius, luminance_only): the radius is the sigma."""
    if len(item.args) != 3:
        raise InvalidTransform("sharpen() takes amount, radius and luminance_only.", field="filters")
    radius = _numbers(Filter(item.name, item.args[1:2]), 1, 1)[0]
    return replace(asked, sharpen=f"{max(radius, 0.01):g}")


def _grayscale(asked: Filtered, item: Filter, image: Image) -> Filtered:
    return replace(asked, grayscale=True)


def _rotate(asked: Filtered, item: Filter, image: Image) -> Filtered:
    return replace(asked, rotate=str(_int_arg(item)))


def _colour_filter(asked: Filtered, item: Filter, image: Image) -> Filtered:
    if len(item.args) < 1:
        raise InvalidTransform(f"{item.name}() takes a colour.", field="filters")
    raw = item.args[0].lower().removeprefix("#")
    colour = COLOURS.get(raw, raw)
    if raw in ("auto", "blur"):
        raise InvalidTransform(f"Not supported: {item.name}({raw}).", field="filters")
    return replace(asked, bg=colour, fill=asked.fill or item.name == "fill")


def _focal(asked: Filtered, item: Filter, image: Image) -> Filtered:
    """focal(AxB:CxD): the centre of that region of the original."""
    try:
        left, top, width, height = (int(part) for part in (_crop(item.args[0]) or "").split(","))
    except (ValueError, IndexError):
        raise InvalidTransform("focal() takes a region AxB:CxD.", field="filters") from None
    x = min(1.0, (left + width / 2) / image.width)
    y = min(1.0, (top + height / 2) / image.height)
    return replace(asked, focal=(x, y))


def _proportion_filter(asked: Filtered, item: Filter, image: Image) -> Filtered:
    ratio = _numbers(item, 1, 1)[0]
    if not 0 < ratio <= 1:
        raise InvalidTransform("proportion() takes a number above 0, at most 1.", field="filters")
    return replace(asked, proportion=ratio)


def _watermark_filter(asked: Filtered, item: Filter, image: Image) -> Filtered:
    if len(item.args) not in (4, 5, 6):
        raise InvalidTransform("watermark() takes image, x, y, alpha[, w_ratio, h_ratio].", field="filters")
    return replace(asked, wm=item.args)


def _watermark(args: tuple[str, ...] | None) -> dict[str, Any]:
    """thumbor's watermark(image, x, y, alpha, w_ratio) over a hosted image: x/y pick the compass corner (negative:
    from the right/bottom, `center`), their size the margin; alpha is transparency (0 opaque); w_ratio the width
    in % of the picture."""
    if args is None:
        return {}
    ref, x, y, alpha = args[0].removeprefix(SCHEME), args[1], args[2], args[3]
    column = "" if x == "center" else "e" if x.startswith("-") or x == "repeat" else "w"
    row = "" if y == "center" else "s" if y.startswith("-") else "n"
    margins = [abs(int(value)) for value in (x, y) if value.lstrip("-").isdigit()]
    try:
        opacity = 1 - float(alpha) / 100
    except ValueError:
        opacity = -1
    if not 0 < opacity <= 1:
        raise InvalidTransform("watermark() alpha must be 0 (opaque) to 99.", field="filters")
    found: dict[str, Any] = {"wm": ref, "wm_gravity": (row + column) or "ce", "wm_opacity": f"{opacity:g}"}
    found |= {"wm_margin": str(max(margins))} if margins else {}
    if len(args) > 4 and args[4] not in ("", "none"):
        ratio = _numbers(Filter("watermark", args[4:5]), 1, 1)[0]
        found["wm_scale"] = f"{ratio / 100:g}"
    return found


FILTERS: dict[str, Callable[[Filtered, Filter, Image], Filtered]] = {
    "quality": _quality, "format": _format, "upscale": _upscale, "no_upscale": _upscale, "blur": _blur,
    "sharpen": _sharpen, "grayscale": _grayscale, "rotate": _rotate, "fill": _colour_filter,
    "background_color": _colour_filter, "focal": _focal, "proportion": _proportion_filter,
    "watermark": _watermark_filter,
}  # fmt: skip


def _int_arg(item: Filter) -> int:
    if len(item.args) != 1 or not item.args[0].lstrip("-").isdigit():
        raise InvalidTransform(f"{item.name}() takes one whole number.", field="filters")
    return int(item.args[0])


def _numbers(item: Filter, least: int, most: int) -> list[float]:
    try:
        numbers = [float(arg) for arg in item.args]
    except ValueError:
        numbers = []
    if not least <= len(numbers) <= most or not all(math.isfinite(number) for number in numbers):
        raise InvalidTransform(f"{item.name}() takes {least}-{most} numbers.", field="filters")
    return numbers
