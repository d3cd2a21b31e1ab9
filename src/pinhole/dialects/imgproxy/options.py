"""imgproxy processing options as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: resize/rs, size/s, resizing_type/rt (fit, fill, fill-down, force, auto), width/w, height/h, dpr,
enlarge/el, gravity/g `ce` (the centre), quality/q, format/f/ext and the source's `@ext`/`.ext`, strip_metadata/sm
(originals are always stripped), cachebuster/cb, expires/exp. Not yet (an "Invalid URL" naming them): extend,
other gravities, crop, background, blur, sharpen, rotate, presets: they arrive with the transform options branch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.imgproxy.url import ImgproxyUrl, Option
from pinhole.errors import InvalidTransform, NotFound

ALIASES = {
    "rs": "resize", "s": "size", "rt": "resizing_type", "w": "width", "h": "height", "el": "enlarge",
    "ex": "extend", "g": "gravity", "c": "crop", "q": "quality", "f": "format", "ext": "format",
    "bg": "background", "bl": "blur", "sh": "sharpen", "rot": "rotate", "sm": "strip_metadata",
    "cb": "cachebuster", "exp": "expires", "pr": "preset",
}  # fmt: skip
NOT_YET = frozenset({"crop", "background", "blur", "sharpen", "rotate", "preset"})
RESIZING_TYPES = frozenset({"fit", "fill", "fill-down", "force", "auto"})
TRUE = frozenset({"1", "t", "true"})


class ExpiredUrl(NotFound):
    code = "expired_url"


@dataclass(frozen=True)
class Resize:
    kind: str = "fit"
    width: int = 0
    height: int = 0
    dpr: float = 1.0
    enlarge: bool = False
    quality: int | None = None
    format: str | None = None


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
    if name == "extend" and (not option.args or option.args[0] not in TRUE):
        return resize
    if name == "gravity" and option.args[:1] == ("ce",) and len(option.args) == 1:
        return resize
    if name in NOT_YET or name in ("extend", "gravity"):
        raise InvalidTransform(f"Invalid URL: option not supported yet: {option.name}.")
    raise InvalidTransform(f"Invalid URL: unknown option: {option.name}.")


def _sizes(resize: Resize, args: tuple[str, ...]) -> Resize:
    option = Option("size", args)
    if len(args) > 0 and args[0]:
        resize = replace(resize, width=_int(option, args[0]))
    if len(args) > 1 and args[1]:
        resize = replace(resize, height=_int(option, args[1]))
    if len(args) > 2 and args[2]:
        resize = replace(resize, enlarge=args[2] in TRUE)
    if len(args) > 3 and args[3] in TRUE:
        raise InvalidTransform("Invalid URL: option not supported yet: extend.")
    return resize


def _fields(resize: Resize, image: Image) -> TransformFields:
    width = round(resize.width * resize.dpr) if resize.width else None
    height = round(resize.height * resize.dpr) if resize.height else None
    kind = resize.kind
    if kind == "auto":  # fill when the box and the image have the same orientation, else fit
        same = bool(width and height) and ((width or 0) >= (height or 0)) == (image.width >= image.height)
        kind = "fill" if same else "fit"
    fit = {"fit": "inside", "fill": "cover", "fill-down": "cover", "force": "fill"}[kind]
    enlarge = resize.enlarge and kind != "fill-down"
    return TransformFields(w=width, h=height, q=resize.quality, format=resize.format, fit=fit, enlarge=enlarge)


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
