"""The options a variant of one image is rendered with: the request's, plus the image's focal point and the
format negotiated from the Accept header (docs/transforms.md). Shared by every API's delivery and the warm path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from pinhole.db.models import Image
from pinhole.errors import InvalidTransform, PinholeError
from pinhole.imaging.geometry import plan
from pinhole.imaging.negotiation import ImageFacts, Negotiation, negotiate
from pinhole.imaging.options import TransformOptions
from pinhole.settings import TransformSettings


@dataclass(frozen=True)
class Effective:
    """The options to render and whether they depended on the Accept header (then answers say Vary: Accept)."""

    options: TransformOptions
    negotiated: bool


def negotiation_policy(settings: TransformSettings) -> Negotiation:
    return Negotiation(
        enabled=settings.negotiate,
        formats=tuple(settings.negotiate_formats),
        avif_min_pixels=settings.avif_min_pixels,
    )


def effective_options(options: TransformOptions, *, image: Image, accept: str | None, policy: Negotiation) -> Effective:
    """`options` for `image` as this request will be served. The original (no option) is never negotiated."""
    if options.is_identity:
        return Effective(options, negotiated=False)
    options = options.for_image(image.focal_point)
    if options.format is not None or not policy.enabled:
        return Effective(options, negotiated=False)
    facts = ImageFacts(format=image.format, animated=image.frames > 1, pixels=_output_pixels(options, image))
    return Effective(options.with_format(negotiate(accept, facts=facts, policy=policy)), negotiated=True)


def _output_pixels(options: TransformOptions, image: Image) -> int:
    try:
        width, height = plan(options, source=(image.width, image.height)).output
    except PinholeError:  # a crop outside the image: the render will say so
        return image.width * image.height
    return width * height


@dataclass(frozen=True)
class SiteMark:
    """The configured watermark file (`transforms.watermark_file`), read once."""

    path: Path

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


FindImage = Callable[[str], Awaitable[Image | None]]


async def resolve_watermark(
    options: TransformOptions, *, image: Image, find: FindImage, site: SiteMark | None
) -> TransformOptions:
    """`options` with its watermark named by content (`h:<hash>`, `f:<file hash>`), so the variant key changes
    with the mark's picture; the mark must be an image of the same client, or `site` (the configured file)."""
    mark = options.watermark
    if mark is None or mark.ref.startswith(("h:", "f:")):
        return options
    if mark.ref == "site":
        if site is None:
            raise InvalidTransform("No site watermark is configured (transforms.watermark_file).", field="wm")
        return replace(options, watermark=replace(mark, ref=f"f:{site.digest}"))
    found = await find(mark.ref)
    return replace(options, watermark=replace(mark, ref=_mark_ref(found, image)))


def resolve_watermark_now(
    options: TransformOptions, *, image: Image, known: Callable[[str], Image | None], site: SiteMark | None
) -> TransformOptions | None:
    """`resolve_watermark` from memory only (the warm path): None when the mark's record is not at hand."""
    mark = options.watermark
    if mark is None or mark.ref.startswith(("h:", "f:")):
        return options
    if mark.ref == "site":
        return None if site is None else replace(options, watermark=replace(mark, ref=f"f:{site.digest}"))
    found = known(mark.ref)
    return None if found is None else replace(options, watermark=replace(mark, ref=_mark_ref(found, image)))


def _mark_ref(found: Image | None, image: Image) -> str:
    if found is None or found.client_id != image.client_id:
        raise InvalidTransform("wm names no image of this image's owner client.", field="wm")
    return f"h:{found.content_hash}"
