"""Cloudinary transformations as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: `w`, `h` (pixels, or a ratio of the original when at most 1), `ar` (with one side), `c` (scale, fit,
limit, fill, lfill, pad, lpad, thumb, crop), `g` (compass, `auto` and `face(s)` as pinhole's smart crop,
`xy_center` with `x`/`y`), `x`/`y` (a `c_crop` region's corner), `dpr`, `q` (a number or `auto`), `f` (a format or
`auto` by Accept), `e_blur[:n]`, `e_sharpen[:n]`, `e_grayscale`, `a` (quarter turns, `hflip`, `vflip`), `b`
(`rgb:RRGGBB` or a colour name) and the public id's extension. Chained components (`/`): a `c_crop` component
cuts a region, one other component resizes, and any may carry the rest. What pinhole cannot do (other angles,
effects and crop modes, several resizes) is a 400 naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import InvalidTransform
from pinhole.imaging.options import COMPASS

CROPS = {"scale": ("fill", True), "fit": ("inside", True), "limit": ("inside", False), "fill": ("cover", True),
         "lfill": ("cover", False), "thumb": ("cover", False), "pad": ("pad", True),
         "lpad": ("pad", False)}  # fmt: skip
GRAVITIES = {"center": "ce", "north": "n", "north_east": "ne", "east": "e", "south_east": "se", "south": "s",
             "south_west": "sw", "west": "w", "north_west": "nw", "auto": "sm", "face": "sm",
             "faces": "sm"}  # fmt: skip
FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}
COLOURS = {"white": "ffffff", "black": "000000", "red": "ff0000", "green": "008000", "blue": "0000ff",
           "gray": "808080", "grey": "808080", "yellow": "ffff00", "transparent": "ffffff00"}  # fmt: skip
SIZING = frozenset({"w", "h", "c", "ar", "x", "y"})
KNOWN = frozenset({"w", "h", "ar", "c", "g", "x", "y", "dpr", "q", "f", "e", "a", "b", "d"})
BLUR_PER_SIGMA, SHARPEN_PER_SIGMA = 20, 200  # e_blur 1-2000 (100) → sigma 0.05-100; e_sharpen 1-2000 → 0.005-10


@dataclass(frozen=True)
class Asked:
    transformations: tuple[dict[str, str], ...]
    extension: str | None
    accept: str


def fields_for(asked: Asked, image: Image) -> TransformFields:
    crops = [step for step in asked.transformations if step.get("c") == "crop"]
    sizes = [step for step in asked.transformations if SIZING & set(step) and step.get("c") != "crop"]
    if len(sizes) > 1 or len(crops) > 1:
        raise InvalidTransform("Not supported: more than one resizing component (and one c_crop).")
    merged: dict[str, str] = {}
    for step in asked.transformations:
        unknown = sorted(set(step) - KNOWN)
        if unknown:
            raise InvalidTransform(f"Not supported: {', '.join(unknown)}.")
        merged |= {key: value for key, value in step.items() if key not in SIZING and key != "g"}
    size = sizes[0] if sizes else {}
    dpr = _number(merged, "dpr", 1.0)
    width, height = _side(size, "w", image.width, dpr), _side(size, "h", image.height, dpr)
    width, height = _aspect(size, width, height)
    fit, enlarge = _crop_mode(size)
    gravity, fp = _gravity(size, image)
    quality = None if merged.get("q", "auto").startswith("auto") else int(_number(merged, "q", 0))
    turn = _angle(merged.get("a"))
    if str(turn.get("rotate", "0")) in ("90", "270"):
        width, height = height, width  # Cloudinary turns the resized picture; pinhole sizes the turned output
    fields = TransformFields(
        w=width, h=height, q=quality, format=_format(merged, asked), fit=fit, enlarge=enlarge,
        gravity=gravity, fp=fp, crop=_region(crops[0], image) if crops else None, bg=_colour(merged.get("b")),
    )  # fmt: skip
    return replace(fields, **_effect(merged.get("e")), **turn)


def _number(params: dict[str, str], name: str, default: float) -> float:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidTransform(f"{name}_{raw} is not a number.")
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


def _crop_mode(params: dict[str, str]) -> tuple[str, bool]:
    found = CROPS.get(params.get("c", "scale"))
    if found is None:
        raise InvalidTransform(f"Not supported: c_{params['c']}.")
    return found


def _gravity(params: dict[str, str], image: Image) -> tuple[str | None, str | None]:
    raw = params.get("g")
    if raw is None:
        return None, None
    if raw == "xy_center":
        x, y = _number(params, "x", 1) if "x" in params else 0.0, _number(params, "y", 1) if "y" in params else 0.0
        return None, f"{min(1.0, x / image.width):.4f},{min(1.0, y / image.height):.4f}"
    found = GRAVITIES.get(raw)
    if found is None:
        raise InvalidTransform(f"Not supported: g_{raw}.")
    return found, None


def _region(step: dict[str, str], image: Image) -> str:
    """A `c_crop` component: a `w` x `h` region at `x`,`y` or at its gravity, before any resizing."""
    width = min(image.width, _side(step, "w", image.width, 1.0) or image.width)
    height = min(image.height, _side(step, "h", image.height, 1.0) or image.height)
    if "x" in step or "y" in step:
        left, top = (int(_corner(step, name)) for name in ("x", "y"))
        return f"{min(max(0, left), image.width - 1)},{min(max(0, top), image.height - 1)},{width},{height}"
    gravity = GRAVITIES.get(step.get("g", "center"))
    if gravity not in COMPASS:
        raise InvalidTransform(f"Not supported: c_crop with g_{step.get('g')}.")
    gx, gy = COMPASS[gravity]
    return f"{round((image.width - width) * gx)},{round((image.height - height) * gy)},{width},{height}"


def _corner(step: dict[str, str], name: str) -> float:
    try:
        value = float(step.get(name, "0"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidTransform(f"{name}_{step[name]} is not a number.")
    return value


def _effect(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    name, _, strength = raw.partition(":")
    if name == "grayscale" and not strength:
        return {"grayscale": True}
    per_sigma = {"blur": BLUR_PER_SIGMA, "sharpen": SHARPEN_PER_SIGMA}.get(name)
    if per_sigma is None:
        raise InvalidTransform(f"Not supported: e_{raw}.")
    try:
        value = float(strength or 100)
    except ValueError:
        raise InvalidTransform(f"e_{raw}: the strength is not a number.") from None
    if not 1 <= value <= 2000:
        raise InvalidTransform(f"e_{name} strength must be 1-2000.")
    return {name: f"{value / per_sigma:g}"}


def _angle(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    if raw in ("hflip", "vflip"):
        return {"flop": True} if raw == "hflip" else {"flip": True}
    try:
        value = int(raw)
    except ValueError:
        value = 1
    if value % 90:
        raise InvalidTransform(f"Not supported: a_{raw} (quarter turns, hflip and vflip are).")
    return {"rotate": str(value % 360)}


def _colour(raw: str | None) -> str | None:
    if raw is None:
        return None
    colour = raw.removeprefix("rgb:").lower()
    return COLOURS.get(colour, colour)


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
