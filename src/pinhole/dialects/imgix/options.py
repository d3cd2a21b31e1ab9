"""imgix query parameters as the one transform parser's fields (`api.transform_query.TransformFields`).

Served: w, h (pixels, or a ratio of the original when at most 1), fit (clip, crop, scale, max, min), dpr, q,
fm (jpg, pjpg, png, webp, avif, gif), auto=format (AVIF or WebP by Accept) and auto=compress (q 45). Quality
defaults to imgix's 75 when the image is re-encoded. Unknown parameters are ignored, as imgix ignores them; the
documented ones that need the transform options branch (crop, fp-x/fp-y, blur, sharp, rot, flip, bg, fill,
fillmax, facearea) answer 400 naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import InvalidTransform

FITS = {"clip": ("inside", True), "max": ("inside", False), "crop": ("cover", True), "min": ("cover", False),
        "scale": ("fill", True)}  # fmt: skip
FORMATS = {"jpg": "jpeg", "pjpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}
NOT_YET = ("crop", "fp-x", "fp-y", "blur", "sharp", "rot", "flip", "bg", "fill", "fill-color")
DEFAULT_QUALITY, COMPRESSED_QUALITY = 75, 45


@dataclass(frozen=True)
class ImgixRequest:
    params: Mapping[str, str]
    accept: str

    @property
    def auto(self) -> set[str]:
        return {part.strip() for part in self.params.get("auto", "").split(",") if part.strip()}


def fields_for(request: ImgixRequest, image: Image) -> TransformFields:
    params = request.params
    unsupported = [name for name in NOT_YET if name in params]
    if unsupported:
        raise InvalidTransform(f"Not supported yet: {', '.join(unsupported)}.", field=unsupported[0])
    dpr = _dpr(params.get("dpr"))
    width = _side(params, "w", image.width, dpr)
    height = _side(params, "h", image.height, dpr)
    fit, enlarge = _fit(params.get("fit"))
    fmt = _format(request)
    quality = _int(params, "q")
    changed = width is not None or height is not None or fmt is not None or quality is not None
    if quality is None and changed:
        quality = COMPRESSED_QUALITY if "compress" in request.auto else DEFAULT_QUALITY
    return TransformFields(w=width, h=height, q=quality, format=fmt, fit=fit, enlarge=enlarge)


def _side(params: Mapping[str, str], name: str, original: int, dpr: float) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidTransform(f"{name}: {raw!r} is not a number.", field=name) from None
    if value <= 0:
        raise InvalidTransform(f"{name} must be above 0.", field=name)
    pixels = value * original if value <= 1 and "." in raw else value
    return max(1, round(pixels * dpr))


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
