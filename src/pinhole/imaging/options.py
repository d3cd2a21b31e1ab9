"""Transform options: parsed and validated once into a frozen value whose canonical string is the
variant cache key and what a URL signature covers.

Equivalent requests normalise to the same value (and so the same string):
`format=jpg` is `jpeg`; `fit` only matters when both sides are given (with one side or none,
every fit scales the same way, so it becomes `inside`); `enlarge` without a size means nothing;
`quality` is dropped for formats without one (PNG, GIF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pinhole.errors import InvalidTransform
from pinhole.imaging.formats import format_named, writable_formats

Fit = Literal["inside", "cover", "fill"]
_FITS: dict[str, Fit] = {"inside": "inside", "cover": "cover", "fill": "fill"}


@dataclass(frozen=True, kw_only=True)
class OutputLimits:
    """The largest output a request may ask for."""

    max_width: int
    max_height: int
    max_pixels: int


@dataclass(frozen=True, kw_only=True)
class TransformOptions:
    """One requested variant. None means "as the source" (size, quality default, format)."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "inside"
    quality: int | None = None
    format: str | None = None
    enlarge: bool = False

    @property
    def is_identity(self) -> bool:
        """Nothing asked: no size, quality or format."""
        return self.width is None and self.height is None and self.quality is None and self.format is None

    def canonical(self) -> str:
        """A stable string naming this variant, e.g. `w800-h0-inside-q0-webp-e0` (0 = unset)."""
        return (
            f"w{self.width or 0}-h{self.height or 0}-{self.fit}-q{self.quality or 0}"
            f"-{self.format or 'auto'}-e{int(self.enlarge)}"
        )


def make_transform(
    *,
    width: int | None = None,
    height: int | None = None,
    fit: str | None = None,
    quality: int | None = None,
    format: str | None = None,
    enlarge: bool = False,
    limits: OutputLimits,
) -> TransformOptions:
    """Validate raw options and normalise them; raises InvalidTransform naming the bad field.

    Sizes must be 1..limit per side and (when both are given) within the pixel limit; quality
    1..100; format a known one this server can write; fit one of inside, cover, fill.
    """
    _check_side("width", width, limits.max_width)
    _check_side("height", height, limits.max_height)
    _check_pixels(width, height, limits.max_pixels)
    _check_quality(quality)
    name = _canonical_format(format)
    chosen = _fit(fit)
    both = width is not None and height is not None
    return TransformOptions(
        width=width,
        height=height,
        fit=chosen if both else "inside",
        quality=_quality_for(name, quality),
        format=name,
        enlarge=enlarge and (width is not None or height is not None),
    )


def _check_side(field: str, value: int | None, maximum: int) -> None:
    if value is not None and not 1 <= value <= maximum:
        raise InvalidTransform(f"{field} must be between 1 and {maximum}.", field=field)


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
    if name is None:
        return None
    found = format_named(name)
    if found is None or found.name not in writable_formats():
        choices = ", ".join(sorted(writable_formats()))
        raise InvalidTransform(f"format must be one of {choices}.", field="format")
    return found.name


def _quality_for(format: str | None, quality: int | None) -> int | None:
    found = format_named(format) if format else None
    return None if found is not None and not found.quality else quality
