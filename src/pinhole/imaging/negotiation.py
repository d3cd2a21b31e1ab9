"""Format negotiation: the output format for a request that names none, from its Accept header and the image.

A pure function of (Accept, image facts, policy), so the route, the warm fast path and tests agree.
Only formats a client names explicitly count as accepted: `*/*` and `image/*` (curl, old clients) do not
promise AVIF or WebP. docs/transforms.md has the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.imaging.formats import format_named, writable_formats

BROWSER_SHOWN = frozenset({"jpeg", "png", "gif", "webp", "avif"})
"""Formats current browsers show: an original in one of them is kept when nothing better is accepted."""

WEB_SAFE = "web"
"""Not a format but a choice left to the render: PNG when the image has alpha, JPEG otherwise (whether an
original has alpha is only known once it is read)."""


@dataclass(frozen=True, kw_only=True)
class Negotiation:
    """What negotiation may choose: the candidates in order of preference, and the smallest AVIF worth making."""

    enabled: bool = True
    formats: tuple[str, ...] = ("avif", "webp")
    avif_min_pixels: int = 64 * 64


@dataclass(frozen=True, kw_only=True)
class ImageFacts:
    """What negotiation needs to know about the image and the output."""

    format: str  # the original's
    animated: bool
    pixels: int  # of one output frame


def accepted(accept: str | None) -> frozenset[str]:
    """The image formats an Accept header names explicitly with a non-zero q (`image/avif` -> avif)."""
    found: set[str] = set()
    for item in (accept or "").split(","):
        media, _, params = item.strip().partition(";")
        if not media.lower().startswith("image/") or media.endswith("*") or _q(params) <= 0:
            continue
        fmt = format_named(media.strip()[len("image/") :])
        if fmt is not None:
            found.add(fmt.name)
    return frozenset(found)


def _q(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None, *, facts: ImageFacts, policy: Negotiation) -> str:
    """The format to serve: AVIF when accepted for a still that is not tiny, else WebP when accepted, else the
    original's format when browsers show it (HEIC they do not), else GIF (animations) or `WEB_SAFE` (PNG or
    JPEG by alpha).
    Candidates come from `policy.formats`, in that order."""
    names = accepted(accept) if policy.enabled else frozenset()
    writable = writable_formats()
    for name in policy.formats:
        if name in names and name in writable and _suits(name, facts, policy):
            return name
    if facts.format in BROWSER_SHOWN and facts.format in writable:
        return facts.format
    return "gif" if facts.animated else WEB_SAFE


def _suits(name: str, facts: ImageFacts, policy: Negotiation) -> bool:
    fmt = format_named(name)
    if fmt is None or (facts.animated and not fmt.animation):
        return False
    return name != "avif" or facts.pixels >= policy.avif_min_pixels
