"""imgix query parameters as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: w, h (pixels, or a ratio of the original when at most 1), fit (clip, crop, fill, fillmax, max, min, scale),
crop (focalpoint with fp-x/fp-y, edges and entropy, faces as pinhole's smart crop, compass sides), dpr, q,
fm (jpg, pjpg, png, webp, avif, gif), auto=format (AVIF or WebP by Accept) and auto=compress (q 45), blur, sharp,
rot (quarter turns), flip (h, v, hv), bg and fill-color. Quality defaults to imgix's 75 when the image is
re-encoded. Unknown parameters are ignored, as imgix ignores them; values pinhole cannot do (fit=facearea, rot
other than quarter turns, crop=faces beside a side) answer 400 naming the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import InvalidTransform

FITS = {"clip": ("inside", True), "max": ("inside", False), "crop": ("cover", True), "min": ("cover", False),
        "scale": ("fill", True), "fill": ("pad", True), "fillmax": ("pad", False)}  # fmt: skip
FORMATS = {"jpg": "jpeg", "pjpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}
SIDES = {"top": "n", "bottom": "s", "left": "w", "right": "e"}
CROPS = {"faces": "sm", "entropy": "en", "edges": "en"}
FLIPS = {"h": (False, True), "v": (True, False), "hv": (True, True)}  # (flip: upside down, flop: mirrored)
DEFAULT_QUALITY, COMPRESSED_QUALITY = 75, 45
BLUR_PER_SIGMA, SHARP_PER_SIGMA = 20, 10  # imgix blur 0-2000 → sigma 0-100; sharp 0-100 → sigma 0-10


@dataclass(frozen=True)
class ImgixRequest:
    params: Mapping[str, str]
    accept: str

    @property
    def auto(self) -> set[str]:
        return {part.strip() for part in self.params.get("auto", "").split(",") if part.strip()}


def fields_for(request: ImgixRequest, image: Image) -> TransformFields:
    params = request.params
    dpr = _dpr(params.get("dpr"))
    width = _side(params, "w", image.width, dpr)
    height = _side(params, "h", image.height, dpr)
    fit, enlarge = _fit(params.get("fit"))
    fmt = _format(request)
    quality = _int(params, "q")
    flip, flop = _flip(params.get("flip"))
    gravity, fp = _crop(params) if fit == "cover" else (None, None)
    effects: dict[str, Any] = {
        "blur": _scaled(params, "blur", BLUR_PER_SIGMA, 2000),
        "sharpen": _scaled(params, "sharp", SHARP_PER_SIGMA, 100),
        "rotate": _rotation(params.get("rot")),
        "bg": _colour(params, "fill-color" if fit == "pad" and "fill-color" in params else "bg"),
    }
    changed = any(value is not None for value in (width, height, fmt, quality, *effects.values())) or flip or flop
    if quality is None and changed:
        quality = COMPRESSED_QUALITY if "compress" in request.auto else DEFAULT_QUALITY
    fields = TransformFields(
        w=width, h=height, q=quality, format=fmt, fit=fit, enlarge=enlarge, gravity=gravity, fp=fp,
        flip=flip, flop=flop,
    )  # fmt: skip
    return replace(fields, **effects)


def _side(params: Mapping[str, str], name: str, original: int, dpr: float) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    value = _number(name, raw)
    if value <= 0:
        raise InvalidTransform(f"{name} must be above 0.", field=name)
    pixels = value * original if value <= 1 and "." in raw else value
    return max(1, round(pixels * dpr))


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidTransform(f"{name}: {raw!r} is not a number.", field=name)
    return value


def _dpr(raw: str | None) -> float:
    if raw is None:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if not 0 < value <= 5:
        raise InvalidTransform("dpr must be a number above 0, at most 5.", field="dpr")
    return value


def _fit(raw: str | None) -> tuple[str, bool]:
    found = FITS.get(raw or "clip")
    if found is None:
        choices = ", ".join(FITS)
        raise InvalidTransform(f"fit {raw!r} is not supported (served: {choices}).", field="fit")
    return found


def _crop(params: Mapping[str, str]) -> tuple[str | None, str | None]:
    """imgix's crop modes as a pinhole gravity or focal point (for fit=crop/min)."""
    modes = [part.strip() for part in params.get("crop", "").split(",") if part.strip()]
    if "focalpoint" in modes:
        x, y = (_number(name, params.get(name, "0.5")) for name in ("fp-x", "fp-y"))
        return None, f"{min(max(x, 0), 1):g},{min(max(y, 0), 1):g}"
    named = [CROPS[mode] for mode in modes if mode in CROPS]
    if named:
        return named[0], None
    sides = {SIDES[mode] for mode in modes if mode in SIDES}
    unknown = [mode for mode in modes if mode not in SIDES]
    if unknown:
        raise InvalidTransform(f"crop {unknown[0]!r} is not supported.", field="crop")
    row = "n" if "n" in sides else "s" if "s" in sides else ""
    column = "w" if "w" in sides else "e" if "e" in sides else ""
    return (row + column) or None, None


def _scaled(params: Mapping[str, str], name: str, per_sigma: int, maximum: int) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    value = _number(name, raw)
    if not 0 <= value <= maximum:
        raise InvalidTransform(f"{name} must be 0-{maximum}.", field=name)
    return f"{value / per_sigma:g}" if value else None


def _rotation(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = _number("rot", raw)
    if value % 90:
        raise InvalidTransform("rot: only quarter turns (0, 90, 180, 270) are served.", field="rot")
    return f"{int(value) % 360}" if value % 360 else None


def _flip(raw: str | None) -> tuple[bool, bool]:
    if raw is None:
        return False, False
    found = FLIPS.get(raw)
    if found is None:
        raise InvalidTransform("flip must be h, v or hv.", field="flip")
    return found


def _colour(params: Mapping[str, str], name: str) -> str | None:
    """imgix colours: RGB, ARGB, RRGGBB or AARRGGBB (alpha first) as pinhole's RRGGBB[AA]."""
    raw = params.get(name)
    if raw is None:
        return None
    hex_ = raw.lower().removeprefix("#")
    if len(hex_) in (3, 4):
        hex_ = "".join(char * 2 for char in hex_)
    if len(hex_) == 8:
        hex_ = hex_[2:] + hex_[:2]
    if len(hex_) not in (6, 8) or any(char not in "0123456789abcdef" for char in hex_):
        raise InvalidTransform(f"{name} must be a hex colour (RGB, ARGB, RRGGBB or AARRGGBB).", field=name)
    return hex_


def _format(request: ImgixRequest) -> str | None:
    raw = request.params.get("fm")
    if raw is not None:
        name = FORMATS.get(raw.lower())
        if name is None:
            raise InvalidTransform(f"fm must be one of {', '.join(FORMATS)}.", field="fm")
        return name
    if "format" in request.auto:
        if "image/avif" in request.accept:
            return "avif"
        if "image/webp" in request.accept:
            return "webp"
    return None


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidTransform(f"{name}: {raw!r} is not a whole number.", field=name)
    return int(raw)
