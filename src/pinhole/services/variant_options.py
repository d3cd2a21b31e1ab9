"""The options a variant of one image is rendered with: the request's, plus the image's focal point and the
format negotiated from the Accept header (docs/transforms.md). Shared by every API's delivery and the warm path.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.db.models import Image
from pinhole.errors import PinholeError
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
