"""Transform options: parsed and validated once into a frozen value whose canonical string is the
variant cache key and what a URL signature covers.

Equivalent requests normalise to the same value (and so the same string):
`format=jpg` is `jpeg` and `format=auto` is no format; `fit` only matters when both sides are given
(with one side or none, every fit scales the same way, so it becomes `inside`); `enlarge` without a size
means nothing; `quality` is dropped for formats without one (PNG, GIF); `dpr` is folded into the sizes;
`gravity` is dropped where it places nothing (only `cover` and `pad` crop or place); `flip` and `flop`
together are `rotate=180`; a white `bg` and a whole-image `crop` are the defaults. docs/transforms.md
lists every option.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Literal

from pinhole.errors import InvalidTransform
from pinhole.imaging.formats import format_named, writable_formats

Fit = Literal["inside", "cover", "fill", "pad", "outside"]
_FITS: dict[str, Fit] = {"inside": "inside", "cover": "cover", "fill": "fill", "pad": "pad", "outside": "outside"}

COMPASS = {
    "ce": (0.5, 0.5),
    "n": (0.5, 0.0),
    "ne": (1.0, 0.0),
    "e": (1.0, 0.5),
    "se": (1.0, 1.0),
    "s": (0.5, 1.0),
    "sw": (0.0, 1.0),
    "w": (0.0, 0.5),
    "nw": (0.0, 0.0),
}
"""The nine compass gravities as the fractions of the free space left of / above the kept window."""

_GRAVITY_NAMES = {
    **{name: name for name in COMPASS},
    "c": "ce",
    "center": "ce",
    "centre": "ce",
    "north": "n",
    "northeast": "ne",
    "east": "e",
    "southeast": "se",
    "south": "s",
    "southwest": "sw",
    "west": "w",
    "northwest": "nw",
    "smart": "sm",
    "attention": "sm",
    "sm": "sm",
    "entropy": "en",
    "en": "en",
}
_PLACING_FITS = frozenset({"cover", "pad"})
_MAX_DPR = 4.0
_MAX_BLUR = 100.0
_MAX_SHARPEN = 10.0
_HEX = re.compile(r"[0-9a-f]{6}([0-9a-f]{2})?")


@dataclass(frozen=True, kw_only=True)
class OutputLimits:
    """The largest output a request may ask for."""

    max_width: int
    max_height: int
    max_pixels: int
    step: int = 0  # sizes are rounded up to a multiple of this (a ladder of widths); 0 keeps them as asked


@dataclass(frozen=True, kw_only=True)
class Region:
    """A rectangle of the source (as displayed) cut out before resizing: pixels, or fractions of each side."""

    x: float
    y: float
    width: float
    height: float
    fractions: bool

    def canonical(self) -> str:
        return f"{'cf' if self.fractions else 'c'}{self.query()}"

    def query(self) -> str:
        """As a URL gives it: `x,y,w,h` (fractions always print a decimal point somewhere, as 0,0,1,1 is no crop)."""
        return ",".join(_number(value) for value in (self.x, self.y, self.width, self.height))

    def in_pixels(self, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """(left, top, width, height) within an image of `size`, clipped to it; None when nothing is left."""
        sx, sy = (size[0], size[1]) if self.fractions else (1, 1)
        left, top = round(self.x * sx), round(self.y * sy)
        right, bottom = (
            min(size[0], round((self.x + self.width) * sx)),
            min(size[1], round((self.y + self.height) * sy)),
        )
        if right - left < 1 or bottom - top < 1:
            return None
        return left, top, right - left, bottom - top


@dataclass(frozen=True, kw_only=True)
class Watermark:
    """A mark drawn over the output: `ref` names its picture (an image id as asked, `site` for the configured file;
    once resolved for a variant, `h:<content hash>` or `f:<file hash>`), placed by compass `gravity` with `margin`
    pixels to the edges, `opacity` 0-1, `scale` its width as a fraction of the output's."""

    ref: str
    gravity: str = "se"
    margin: int = 16
    opacity: float = 0.5
    scale: float = 0.25

    def canonical(self) -> str:
        return f"wm{self.ref}.{self.gravity}.{self.margin}.{_number(self.opacity)}.{_number(self.scale)}"


@dataclass(frozen=True, kw_only=True)
class TransformOptions:
    """One requested variant. None means "as the source" (size, quality default, format) or "not asked"."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "inside"
    quality: int | None = None
    format: str | None = None
    enlarge: bool = False
    crop: Region | None = None
    gravity: str | None = None  # a COMPASS key, "sm" (attention), "en" (entropy) or "fp" (focal point)
    focal: tuple[float, float] | None = None  # with gravity "fp": fractions of the width and height
    blur: float | None = None
    sharpen: float | None = None
    rotate: int = 0
    flip: bool = False  # upside down
    flop: bool = False  # mirrored left to right
    grayscale: bool = False
    background: str | None = None  # rrggbb or rrggbbaa; None is white
    watermark: Watermark | None = None

    @property
    def is_identity(self) -> bool:
        """Nothing asked: the original as stored."""
        return self == IDENTITY

    @property
    def places(self) -> bool:
        """Whether gravity decides anything for these options (a cover crop or a pad placement)."""
        return self.fit in _PLACING_FITS

    def canonical(self) -> str:
        """A stable string naming this variant, e.g. `w800-h0-inside-q0-webp-e0` (0 = unset), then one short
        part per further option that is set (`-gsm`, `-fp0.3,0.7`, `-bl2`...), so older keys stay valid."""
        base = (
            f"w{self.width or 0}-h{self.height or 0}-{self.fit}-q{self.quality or 0}"
            f"-{self.format or 'auto'}-e{int(self.enlarge)}"
        )
        return "".join((base, *(f"-{part}" for part in self._extra_parts())))

    def _extra_parts(self) -> list[str]:
        parts = [self.crop.canonical()] if self.crop else []
        if self.gravity == "fp" and self.focal is not None:
            parts.append(f"fp{_number(self.focal[0])},{_number(self.focal[1])}")
        elif self.gravity is not None:
            parts.append(f"g{self.gravity}")
        parts += [f"bl{_number(self.blur)}"] if self.blur else []
        parts += [f"sh{_number(self.sharpen)}"] if self.sharpen else []
        parts += [f"r{self.rotate}"] if self.rotate else []
        parts += [name for name, on in (("fl", self.flip), ("fo", self.flop), ("gr", self.grayscale)) if on]
        parts += [f"bg{self.background}"] if self.background else []
        parts += [self.watermark.canonical()] if self.watermark else []
        return parts

    def for_image(self, focal_point: tuple[float, float] | None) -> TransformOptions:
        """These options for one image: its stored focal point places a cover crop the request left to the
        default; an explicit centre and the default are then one variant."""
        gravity, focal = self.gravity, self.focal
        if gravity is None and focal_point is not None and self.fit == "cover":
            gravity, focal = "fp", focal_point
        if gravity == "ce":
            gravity = None
        return self if (gravity, focal) == (self.gravity, self.focal) else replace(self, gravity=gravity, focal=focal)

    def with_format(self, name: str) -> TransformOptions:
        """These options with the output format chosen (negotiated), normalised as if it had been asked."""
        found = format_named(name)
        quality = None if found is not None and not found.quality else self.quality
        return replace(self, format=name, quality=quality)


IDENTITY = TransformOptions()


def make_transform(
    *,
    width: int | None = None,
    height: int | None = None,
    fit: str | None = None,
    quality: int | None = None,
    format: str | None = None,
    enlarge: bool = False,
    dpr: str | float | None = None,
    crop: str | None = None,
    gravity: str | None = None,
    fp: str | None = None,
    blur: str | float | None = None,
    sharpen: str | float | None = None,
    rotate: str | int | None = None,
    flip: bool = False,
    flop: bool = False,
    grayscale: bool = False,
    bg: str | None = None,
    wm: str | None = None,
    wm_gravity: str | None = None,
    wm_margin: str | int | None = None,
    wm_opacity: str | float | None = None,
    wm_scale: str | float | None = None,
    limits: OutputLimits,
) -> TransformOptions:
    """Validate raw options and normalise them; raises InvalidTransform naming the bad field.

    Sizes must be 1..limit per side (after `dpr`, 1-4, multiplies them) and (when both are given) within the
    pixel limit; quality 1..100; format a known one this server can write (or `auto`); fit one of inside,
    cover, fill, pad, outside. Composite options come as the strings a URL carries (`crop=10,10,200,100`,
    `fp=0.3,0.7`, `bg=ff0000`), so every API validates them the same way.
    """
    _check_side("width", width, limits.max_width)
    _check_side("height", height, limits.max_height)
    width, height = _apply_dpr(width, height, _dpr(dpr), limits)
    width, height = _snap(width, limits.step, limits.max_width), _snap(height, limits.step, limits.max_height)
    _check_pixels(width, height, limits.max_pixels)
    _check_quality(quality)
    name = _canonical_format(format)
    both = width is not None and height is not None
    asked = _fit(fit)
    chosen: Fit = asked if both else "inside"
    turn = _rotation(rotate)
    if flip and flop:
        turn, flip, flop = (turn + 180) % 360, False, False
    grav, focal = _gravity(gravity, fp)
    return TransformOptions(
        width=width,
        height=height,
        fit=chosen,
        quality=_quality_for(name, quality),
        format=name,
        enlarge=enlarge and (width is not None or height is not None),
        crop=_region(crop),
        gravity=grav if chosen == "cover" or (chosen == "pad" and grav in COMPASS) else None,
        focal=focal if chosen == "cover" and grav == "fp" else None,
        blur=_sigma("blur", blur, _MAX_BLUR),
        sharpen=_sigma("sharpen", sharpen, _MAX_SHARPEN, flag=True),
        rotate=turn,
        flip=flip,
        flop=flop,
        grayscale=grayscale,
        background=_colour(bg),
        watermark=_watermark(wm, wm_gravity, wm_margin, wm_opacity, wm_scale),
    )


def _check_side(field: str, value: int | None, maximum: int) -> None:
    if value is not None and not 1 <= value <= maximum:
        raise InvalidTransform(f"{field} must be between 1 and {maximum}.", field=field)


def _dpr(value: str | float | None) -> float:
    number = _float("dpr", value)
    if number is None:
        return 1.0
    if not 1.0 <= number <= _MAX_DPR:
        raise InvalidTransform(f"dpr must be between 1 and {_MAX_DPR:g}.", field="dpr")
    return number


def _apply_dpr(
    width: int | None, height: int | None, dpr: float, limits: OutputLimits
) -> tuple[int | None, int | None]:
    if dpr == 1.0:
        return width, height
    width, height = (round(side * dpr) if side is not None else None for side in (width, height))
    if (width or 0) > limits.max_width or (height or 0) > limits.max_height:
        raise InvalidTransform(f"dpr makes the output larger than {limits.max_width}x{limits.max_height}.", field="dpr")
    return width, height


def _snap(side: int | None, step: int, maximum: int) -> int | None:
    if side is None or step <= 1:
        return side
    return min(maximum, -(-side // step) * step)


def _check_pixels(width: int | None, height: int | None, maximum: int) -> None:
    if width is not None and height is not None and width * height > maximum:
        raise InvalidTransform(
            f"width x height asks for {width * height} pixels; at most {maximum} are allowed.", field="width"
        )


def _check_quality(quality: int | None) -> None:
    if quality is not None and not 1 <= quality <= 100:
        raise InvalidTransform("quality must be between 1 and 100.", field="quality")


def _fit(fit: str | None) -> Fit:
    chosen = _FITS.get((fit or "inside").strip().lower())
    if chosen is None:
        raise InvalidTransform(f"fit must be one of {', '.join(_FITS)}.", field="fit")
    return chosen


def _canonical_format(name: str | None) -> str | None:
    if name is None or name.strip().lower() == "auto":
        return None
    found = format_named(name)
    if found is None or found.name not in writable_formats():
        choices = ", ".join(sorted(writable_formats()))
        raise InvalidTransform(f"format must be auto or one of {choices}.", field="format")
    return found.name


def _quality_for(format: str | None, quality: int | None) -> int | None:
    found = format_named(format) if format else None
    return None if found is not None and not found.quality else quality


def _gravity(gravity: str | None, fp: str | None) -> tuple[str | None, tuple[float, float] | None]:
    if fp is not None:
        if gravity is not None and gravity.strip().lower() != "fp":
            raise InvalidTransform("fp (a focal point) and gravity cannot both be given.", field="fp")
        return "fp", _point(fp)
    if gravity is None:
        return None, None
    name = _GRAVITY_NAMES.get(gravity.strip().lower().replace("-", "").replace("_", ""))
    if name is None:
        raise InvalidTransform(
            "gravity must be a compass point (n, ne, e, se, s, sw, w, nw, centre), smart or entropy.",
            field="gravity",
        )
    return name, None


def _point(raw: str) -> tuple[float, float]:
    numbers = _numbers("fp", raw, 2)
    if not all(0.0 <= value <= 1.0 for value in numbers):
        raise InvalidTransform("fp must be x,y as fractions of the width and height (0 to 1).", field="fp")
    return round(numbers[0], 4), round(numbers[1], 4)


def _region(raw: str | None) -> Region | None:
    if raw is None:
        return None
    x, y, w, h = _numbers("crop", raw, 4)
    fractions = "." in raw
    fits = x + w <= 1.0 + 1e-9 and y + h <= 1.0 + 1e-9 if fractions else all(v == int(v) for v in (x, y, w, h))
    if x < 0 or y < 0 or w <= 0 or h <= 0 or not fits:
        raise InvalidTransform(
            "crop must be x,y,w,h in whole pixels, or in fractions of the sides (with a decimal point) "
            "that stay inside the image.",
            field="crop",
        )
    if fractions and (x, y, w, h) == (0.0, 0.0, 1.0, 1.0):
        return None
    values = [round(v, 4) for v in (x, y, w, h)] if fractions else [float(int(v)) for v in (x, y, w, h)]
    return Region(x=values[0], y=values[1], width=values[2], height=values[3], fractions=fractions)


def _numbers(field: str, raw: str, count: int) -> list[float]:
    parts = raw.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != count or not all(math.isfinite(value) for value in numbers):
        raise InvalidTransform(f"{field} must be {count} comma-separated numbers.", field=field)
    return numbers


def _float(field: str, value: str | float | None) -> float | None:
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidTransform(f"{field} must be a number.", field=field)
    return number


def _sigma(field: str, value: str | float | None, maximum: float, *, flag: bool = False) -> float | None:
    if flag and isinstance(value, str) and value.strip().lower() in ("", "true", "yes", "on"):
        return 1.0
    number = _float(field, value)
    if number is None or number == 0:
        return None
    if not 0 < number <= maximum:
        raise InvalidTransform(f"{field} must be a sigma above 0 and at most {maximum:g}.", field=field)
    return round(number, 2)


def _rotation(value: str | int | None) -> int:
    number = _float("rotate", value)
    if number is None:
        return 0
    if number != int(number) or int(number) % 90:
        raise InvalidTransform("rotate must be 0, 90, 180 or 270.", field="rotate")
    return int(number) % 360


def _colour(raw: str | None) -> str | None:
    if raw is None:
        return None
    colour = raw.strip().lower().removeprefix("#")
    if not _HEX.fullmatch(colour):
        raise InvalidTransform("bg must be a colour as RRGGBB or RRGGBBAA (hex).", field="bg")
    colour = colour.removesuffix("ff") if len(colour) == 8 else colour
    return None if colour == "ffffff" else colour


_WATERMARK_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _watermark(
    ref: str | None,
    gravity: str | None,
    margin: str | int | None,
    opacity: str | float | None,
    scale: str | float | None,
) -> Watermark | None:
    """The watermark asked for; its placement options mean nothing without `wm` and are dropped."""
    if ref is None:
        return None
    if not _WATERMARK_REF.fullmatch(ref):
        raise InvalidTransform("wm must be an image id (or site, for the configured watermark).", field="wm")
    place = _GRAVITY_NAMES.get((gravity or "se").strip().lower().replace("-", ""))
    if place not in COMPASS:
        raise InvalidTransform(
            "wm_gravity must be a compass point (n, ne, e, se, s, sw, w, nw, centre).", field="wm_gravity"
        )
    pixels = _float("wm_margin", margin)
    if pixels is not None and (pixels != int(pixels) or not 0 <= pixels <= 1000):
        raise InvalidTransform("wm_margin must be whole pixels, 0-1000.", field="wm_margin")
    alpha, width = _float("wm_opacity", opacity), _float("wm_scale", scale)
    if alpha is not None and not 0 < alpha <= 1:
        raise InvalidTransform("wm_opacity must be above 0 and at most 1.", field="wm_opacity")
    if width is not None and not 0 < width <= 1:
        raise InvalidTransform("wm_scale must be above 0 and at most 1 (of the output's width).", field="wm_scale")
    return Watermark(
        ref=ref,
        gravity=place,
        margin=16 if pixels is None else int(pixels),
        opacity=0.5 if alpha is None else round(alpha, 3),
        scale=0.25 if width is None else round(width, 3),
    )


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def rgba(colour: str | None) -> list[float]:
    """A `background` value as [r, g, b, a] (0-255); None is opaque white."""
    hex_ = colour or "ffffff"
    channels = [int(hex_[at : at + 2], 16) for at in range(0, len(hex_), 2)]
    return [float(value) for value in [*channels, 255][:4]]
