"""Variant URLs: every transform option, normalised as the server normalises them, so a URL the SDK builds and
the canonical string it signs are the ones the server computes (`imaging/options.py` in pinhole).

`format=jpg` is `jpeg`; `fit` only matters with both sides (else `inside`); `enlarge` needs a size; `quality` is
dropped for formats without one (PNG, GIF, HEIC); `thumb` is the server's thumbnail box with `fit=cover`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode

Fit = Literal["inside", "cover", "fill"]
FITS = ("inside", "cover", "fill")
FORMATS = {"jpeg": True, "png": False, "webp": True, "gif": False, "avif": True, "heic": False}  # name: has quality
ALIASES = {"jpg": "jpeg", "heif": "heic"}
THUMBNAIL_SIZE = 256  # the server's default PINHOLE_IMAGING__THUMBNAIL_SIZE


@dataclass(frozen=True, kw_only=True)
class Transform:
    """One variant of an image. None means as the source."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "inside"
    quality: int | None = None
    format: str | None = None
    enlarge: bool = False

    @classmethod
    def of(
        cls,
        *,
        w: int | None = None,
        h: int | None = None,
        q: int | None = None,
        format: str | None = None,
        fit: str | None = None,
        enlarge: bool = False,
        thumb: bool = False,
        thumbnail_size: int = THUMBNAIL_SIZE,
    ) -> Transform:
        """Options as the query spells them, checked and normalised; raises ValueError naming the option."""
        if thumb:
            w, h, fit = w or thumbnail_size, h or thumbnail_size, (fit or "cover")
        for side, value in (("w", w), ("h", h)):
            if value is not None and value < 1:
                raise ValueError(f"{side} must be at least 1")
        if q is not None and not 1 <= q <= 100:
            raise ValueError("q must be between 1 and 100")
        name = _format(format)
        chosen: str = (fit or "inside").strip().lower()
        if chosen not in FITS:
            raise ValueError(f"fit must be one of {', '.join(FITS)}")
        both = w is not None and h is not None
        return cls(
            width=w,
            height=h,
            fit=chosen if both else "inside",  # type: ignore[arg-type]
            quality=None if name is not None and not FORMATS[name] else q,
            format=name,
            enlarge=enlarge and (w is not None or h is not None),
        )

    @property
    def is_identity(self) -> bool:
        return self.width is None and self.height is None and self.quality is None and self.format is None

    def canonical(self) -> str:
        """The string the server keys variants by and signatures cover, e.g. `w800-h0-inside-q0-webp-e0`."""
        return (
            f"w{self.width or 0}-h{self.height or 0}-{self.fit}-q{self.quality or 0}"
            f"-{self.format or 'auto'}-e{int(self.enlarge)}"
        )

    def query(self) -> dict[str, str]:
        """The query that asks for exactly this variant."""
        values = {"w": self.width, "h": self.height, "q": self.quality, "format": self.format}
        found = {name: str(value) for name, value in values.items() if value is not None}
        if self.fit != "inside":
            found["fit"] = self.fit
        if self.enlarge:
            found["enlarge"] = "true"
        return found


def _format(name: str | None) -> str | None:
    if name is None:
        return None
    wanted = ALIASES.get(name.strip().lower(), name.strip().lower())
    if wanted not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(sorted(FORMATS))}")
    return wanted


def image_url(base_url: str, image_id: str, transform: Transform, extra: dict[str, str] | None = None) -> str:
    """`{base}/v2/images/{id}?{options}[&sig=..&exp=..]`."""
    query = urlencode(transform.query() | (extra or {}))
    url = f"{base_url.rstrip('/')}/v2/images/{quote(image_id, safe='')}"
    return f"{url}?{query}" if query else url
