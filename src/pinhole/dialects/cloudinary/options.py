"""Cloudinary transformations as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: `w`, `h` (pixels, or a ratio of the original when at most 1), `ar` (with one side), `c` (scale, fit,
limit, fill, lfill, thumb), `g` (center; `auto` and `face` crop at the centre too), `dpr`, `q` (a number or
`auto`), `f` (a format or `auto` by Accept) and the public id's extension. Chained components may each carry `f`,
`q` or `dpr`, but only one may resize. Not yet (400 naming them): pad, lpad, crop, other gravities, x/y, effects,
angle, background.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import InvalidTransform

CROPS = {"scale": ("fill", True), "fit": ("inside", True), "limit": ("inside", False), "fill": ("cover", True),
         "lfill": ("cover", False), "thumb": ("cover", False)}  # fmt: skip
GRAVITIES = frozenset({"center", "auto", "face", "faces"})  # all at the centre until the transforms branch lands
FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}
KNOWN = frozenset({"w", "h", "ar", "c", "g", "dpr", "q", "f"})


@dataclass(frozen=True)
class Asked:
    transformations: tuple[dict[str, str], ...]
    extension: str | None
    accept: str


def fields_for(asked: Asked, image: Image) -> TransformFields:
    sizes = [step for step in asked.transformations if {"w", "h", "c", "ar"} & set(step)]
    if len(sizes) > 1:
        raise InvalidTransform("Only one chained transformation may resize (for now).")
    merged: dict[str, str] = {}
    for step in asked.transformations:
        unknown = sorted(set(step) - KNOWN)
        if unknown:
            raise InvalidTransform(f"Not supported yet: {', '.join(unknown)}.")
        merged |= step
    dpr = _number(merged, "dpr", 1.0)
    width, height = _side(merged, "w", image.width, dpr), _side(merged, "h", image.height, dpr)
    width, height = _aspect(merged, width, height)
    fit, enlarge = _crop(merged)
    if merged.get("g", "center") not in GRAVITIES:
        raise InvalidTransform(f"Not supported yet: g_{merged['g']}.")
    quality = None if merged.get("q", "auto").startswith("auto") else int(_number(merged, "q", 0))
    return TransformFields(w=width, h=height, q=quality, format=_format(merged, asked), fit=fit, enlarge=enlarge)


def _number(params: dict[str, str], name: str, default: float) -> float:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidTransform(f"{name}_{raw} is not a number.") from None
    if value <= 0:
        raise InvalidTransform(f"{name} must be above 0.")
    return value


def _side(params: dict[str, str], name: str, original: int, dpr: float) -> int | None:
    if name not in params:
        return None
    value = _number(params, name, 0)
    pixels = value * original if value <= 1 and "." in params[name] else value
    return max(1, round(pixels * dpr))


def _aspect(params: dict[str, str], width: int | None, height: int | None) -> tuple[int | None, int | None]:
    raw = params.get("ar")
    if raw is None or (width is None) == (height is None):
        return width, height
    left, colon, right = raw.partition(":")
    try:
        ratio = float(left) / float(right) if colon else float(raw)
    except (ValueError, ZeroDivisionError):
        raise InvalidTransform(f"ar_{raw} is not an aspect ratio.") from None
    if width is not None:
        return width, max(1, round(width / ratio))
    return max(1, round((height or 0) * ratio)), height


def _crop(params: dict[str, str]) -> tuple[str, bool]:
    found = CROPS.get(params.get("c", "scale"))
    if found is None:
        raise InvalidTransform(f"Not supported yet: c_{params['c']}.")
    return found


def _format(params: dict[str, str], asked: Asked) -> str | None:
    raw = params.get("f") or asked.extension
    if raw is None:
        return None
    if raw == "auto":
        return "avif" if "image/avif" in asked.accept else "webp" if "image/webp" in asked.accept else None
    name = FORMATS.get(raw.lower())
    if name is None:
        raise InvalidTransform(f"Format {raw!r} is not served (served: {', '.join(FORMATS)}).")
    return name
