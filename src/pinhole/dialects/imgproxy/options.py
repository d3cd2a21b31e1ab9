"""imgproxy processing options as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: resize/rs, size/s, resizing_type/rt (fit, fill, fill-down, force, auto), width/w, height/h, dpr,
enlarge/el, extend/ex (fit becomes pad), gravity/g (compass, sm, fp:x:y), crop/c (a region at a gravity),
quality/q, format/f/ext and the source's `@ext`/`.ext`, background/bg, blur/bl, sharpen/sh, rotate/rot,
preset/pr (one of pinhole's presets), strip_metadata/sm (originals are always stripped), cachebuster/cb,
expires/exp. What pinhole cannot do (gravity offsets, smart crop regions, several presets) is an "Invalid URL".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.imgproxy.url import ImgproxyUrl, Option
from pinhole.errors import InvalidTransform, NotFound
from pinhole.imaging.options import COMPASS as COMPASS_FRACTIONS

ALIASES = {
    "rs": "resize", "s": "size", "rt": "resizing_type", "w": "width", "h": "height", "el": "enlarge",
    "ex": "extend", "g": "gravity", "c": "crop", "q": "quality", "f": "format", "ext": "format",
    "bg": "background", "bl": "blur", "sh": "sharpen", "rot": "rotate", "sm": "strip_metadata",
    "cb": "cachebuster", "exp": "expires", "pr": "preset",
}  # fmt: skip
COMPASS = {"no": "n", "so": "s", "ea": "e", "we": "w", "noea": "ne", "nowe": "nw", "soea": "se", "sowe": "sw",
           "ce": "ce"}  # fmt: skip
RESIZING_TYPES = frozenset({"fit", "fill", "fill-down", "force", "auto"})
TRUE = frozenset({"1", "t", "true"})


class ExpiredUrl(NotFound):
    code = "expired_url"


@dataclass(frozen=True)
class Resize:
    kind: str | None = None  # None: not asked (imgproxy's fit), so a preset may set it
    width: int = 0
    height: int = 0
    dpr: float = 1.0
    enlarge: bool = False
    quality: int | None = None
    format: str | None = None
    extend: bool = False
    extend_gravity: str | None = None
    gravity: str | None = None  # a pinhole gravity (compass key or "sm")
    fp: str | None = None
    crop: tuple[float, float, tuple[str, ...]] | None = None  # width, height, gravity arguments
    background: str | None = None
    blur: str | None = None
    sharpen: str | None = None
    rotate: str | None = None
    preset: str | None = None


def fields_for(url: ImgproxyUrl, image: Image, *, now: float | None = None) -> TransformFields:
    resize = Resize(format=url.extension)
    for option in url.options:
        resize = _apply(resize, option, now=time.time() if now is None else now)
    return _fields(resize, image)


def _apply(resize: Resize, option: Option, *, now: float) -> Resize:
    name, args = ALIASES.get(option.name, option.name), option.args
    if name in ("resize", "size"):
        kind = [_kind(args[0])] if name == "resize" and args and args[0] else []
        rest = args[1:] if name == "resize" else args
        resize = replace(resize, kind=kind[0]) if kind else resize
        return _sizes(resize, rest)
    if name == "resizing_type":
        return replace(resize, kind=_kind(_one(option)))
    if name == "width":
        return replace(resize, width=_int(option, _one(option)))
    if name == "height":
        return replace(resize, height=_int(option, _one(option)))
    if name == "dpr":
        return replace(resize, dpr=_dpr(option))
    if name == "enlarge":
        return replace(resize, enlarge=_one(option) in TRUE)
    if name == "quality":
        return replace(resize, quality=_int(option, _one(option)) or None)
    if name == "format":
        return replace(resize, format=_one(option))
    if name == "expires":
        if _int(option, _one(option)) < now:
            raise ExpiredUrl("Expired URL.")
        return resize
    return _other(resize, name, option)


def _other(resize: Resize, name: str, option: Option) -> Resize:
    if name in ("strip_metadata", "cachebuster"):
        return resize
    if name == "extend":
        on = bool(option.args) and option.args[0] in TRUE
        gravity = _gravity(Option("extend", option.args[1:]))[0] if on and len(option.args) > 1 else None
        return replace(resize, extend=on, extend_gravity=gravity)
    if name == "gravity":
        gravity, fp = _gravity(option)
        return replace(resize, gravity=gravity, fp=fp)
    if name == "crop":
        return replace(resize, crop=_crop(option))
    return _effect(resize, name, option)


def _effect(resize: Resize, name: str, option: Option) -> Resize:
    if name == "background":
        return replace(resize, background=_colour(option))
    if name == "blur":
        return replace(resize, blur=_one(option))
    if name == "sharpen":
        return replace(resize, sharpen=_one(option))
    if name == "rotate":
        return replace(resize, rotate=_one(option))
    if name == "preset":
        if len(option.args) != 1:
            raise InvalidTransform("Invalid URL: option not supported: several presets at once.")
        return replace(resize, preset=option.args[0])
    raise InvalidTransform(f"Invalid URL: unknown option: {option.name}.")


def _gravity(option: Option) -> tuple[str | None, str | None]:
    """imgproxy's gravity as pinhole's: (compass key or "sm", None) or ("fp", "x,y")."""
    args = option.args
    if not args:
        raise InvalidTransform(f"Invalid URL: {option.name} needs a gravity type.")
    if args[0] == "fp":
        if len(args) != 3:
            raise InvalidTransform("Invalid URL: gravity fp takes x and y.")
        return "fp", f"{args[1]},{args[2]}"
    if args[0] == "sm" and len(args) == 1:
        return "sm", None
    if args[0] not in COMPASS or len(args) not in (1, 3):
        raise InvalidTransform(f"Invalid URL: invalid gravity: {':'.join(args)}.")
    if any(_float(offset) for offset in args[1:]):
        raise InvalidTransform("Invalid URL: option not supported: gravity offsets.")
    return COMPASS[args[0]], None


def _crop(option: Option) -> tuple[float, float, tuple[str, ...]]:
    if len(option.args) < 2:
        raise InvalidTransform("Invalid URL: crop takes width and height.")
    width, height = _float(option.args[0]), _float(option.args[1])
    if width < 0 or height < 0:
        raise InvalidTransform("Invalid URL: crop sizes must be 0 or above.")
    return width, height, option.args[2:]


def _colour(option: Option) -> str:
    args = option.args
    if len(args) == 1 and len(args[0]) == 6:
        return args[0]
    if len(args) == 3 and all(arg.isdigit() and int(arg) < 256 for arg in args):
        return "".join(f"{int(arg):02x}" for arg in args)
    raise InvalidTransform("Invalid URL: background is r:g:b or a hex colour.")


def _float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidTransform(f"Invalid URL: {raw!r} is not a number.")
    return value


def _sizes(resize: Resize, args: tuple[str, ...]) -> Resize:
    option = Option("size", args)
    if len(args) > 0 and args[0]:
        resize = replace(resize, width=_int(option, args[0]))
    if len(args) > 1 and args[1]:
        resize = replace(resize, height=_int(option, args[1]))
    if len(args) > 2 and args[2]:
        resize = replace(resize, enlarge=args[2] in TRUE)
    if len(args) > 3 and args[3]:
        resize = replace(resize, extend=args[3] in TRUE)
    if len(args) > 4 and resize.extend:
        resize = replace(resize, extend_gravity=_gravity(Option("extend", args[4:]))[0])
    return resize


def _fields(resize: Resize, image: Image) -> TransformFields:
    width = round(resize.width * resize.dpr) if resize.width else None
    height = round(resize.height * resize.dpr) if resize.height else None
    kind = resize.kind or "fit"
    if kind == "auto":  # fill when the box and the image have the same orientation, else fit
        same = bool(width and height) and ((width or 0) >= (height or 0)) == (image.width >= image.height)
        kind = "fill" if same else "fit"
    fit: str | None = {"fit": "inside", "fill": "cover", "fill-down": "cover", "force": "fill"}[kind]
    gravity = resize.gravity
    if fit == "inside" and resize.extend and width and height:
        fit, gravity = "pad", resize.extend_gravity or "ce"
    enlarge = resize.enlarge and kind != "fill-down"
    if resize.kind is None and fit == "inside":
        fit = None
    if resize.rotate is not None and resize.rotate.strip() in ("90", "270"):
        width, height = height, width  # imgproxy rotates after resizing; pinhole sizes the rotated output
    return TransformFields(
        w=width,
        h=height,
        q=resize.quality,
        format=resize.format,
        fit=fit,
        enlarge=enlarge,
        gravity=None if resize.fp else gravity,
        fp=resize.fp,
        crop=_region(resize, image),
        bg=resize.background,
        blur=resize.blur,
        sharpen=resize.sharpen,
        rotate=resize.rotate,
        preset=resize.preset,
    )


def _region(resize: Resize, image: Image) -> str | None:
    """imgproxy's crop (width, height at a gravity, before resizing) as a pixel region of the image."""
    if resize.crop is None:
        return None
    width, height, gravity_args = resize.crop
    crop_w = _crop_side(width, image.width)
    crop_h = _crop_side(height, image.height)
    gravity, fp = _gravity(Option("crop", gravity_args)) if gravity_args else (resize.gravity, resize.fp)
    if gravity == "sm":
        raise InvalidTransform("Invalid URL: option not supported: crop with smart gravity.")
    if gravity == "fp" and fp is not None:
        fx, fy = (_float(part) for part in fp.split(","))
        left = min(max(0, round(fx * image.width - crop_w / 2)), image.width - crop_w)
        top = min(max(0, round(fy * image.height - crop_h / 2)), image.height - crop_h)
    else:
        gx, gy = COMPASS_FRACTIONS[gravity or "ce"]
        left, top = round((image.width - crop_w) * gx), round((image.height - crop_h) * gy)
    return f"{left},{top},{crop_w},{crop_h}"


def _crop_side(value: float, original: int) -> int:
    if value == 0:
        return original
    return max(1, min(original, round(value * original if value < 1 else value)))


def _kind(value: str) -> str:
    if value not in RESIZING_TYPES:
        raise InvalidTransform(f"Invalid URL: resizing type must be one of {', '.join(sorted(RESIZING_TYPES))}.")
    return value


def _one(option: Option) -> str:
    if len(option.args) != 1:
        raise InvalidTransform(f"Invalid URL: {option.name} takes one argument.")
    return option.args[0]


def _int(option: Option, value: str) -> int:
    if not value.isdigit():
        raise InvalidTransform(f"Invalid URL: {option.name}: {value!r} is not a whole number.")
    return int(value)


def _dpr(option: Option) -> float:
    try:
        value = float(_one(option))
    except ValueError:
        value = 0
    if not 0 < value <= 8:
        raise InvalidTransform("Invalid URL: dpr must be a number above 0, at most 8.")
    return value
