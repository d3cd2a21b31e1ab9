"""v2 query options (`w`, `h`, `q`, `format`, `thumb`, `fit`) → the shared `TransformOptions`, and back.

`sig` and `exp` (a URL signature) ride along in the same query but are not options: they never change the
canonical options, so a signed and an unsigned request for one variant share its cache entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query

from pinhole.api.deps import RuntimeDep
from pinhole.api.params import QUALITY_BOUNDS, SIDE_BOUNDS
from pinhole.errors import InvalidTransform
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.runtime import Runtime
from pinhole.security.policy import Owned
from pinhole.security.principal import Principal
from pinhole.security.signing import signature_required

QUERY_NAMES = {"width": "w", "height": "h", "quality": "q"}


@dataclass(frozen=True)
class ServeQuery:
    info: bool
    token: str | None
    options: TransformOptions
    sig: str | None = None
    exp: str | None = None


async def serve_query(
    runtime: RuntimeDep,
    w: Annotated[
        int | None, Query(description="Resize width (pixels).", examples=[800], json_schema_extra=SIDE_BOUNDS)
    ] = None,
    h: Annotated[int | None, Query(description="Resize height (pixels).", json_schema_extra=SIDE_BOUNDS)] = None,
    q: Annotated[int | None, Query(description="Quality, 1-100.", json_schema_extra=QUALITY_BOUNDS)] = None,
    format: Annotated[
        str | None, Query(description="Output format: jpeg, png, webp, avif or gif.", examples=["webp"])
    ] = None,
    thumb: Annotated[bool, Query(description="Serve a square thumbnail (cropped to fill).")] = False,
    fit: Annotated[
        Literal["inside", "cover", "fill"] | None,
        Query(description="inside (default) keeps the aspect ratio; cover crops to exactly w x h; fill stretches."),
    ] = None,
    enlarge: Annotated[bool, Query(description="Allow output larger than the original.")] = False,
    info: Annotated[bool, Query(description="Return the image's metadata as JSON instead of the image.")] = False,
    token: Annotated[str | None, Query(description="Share token for a private image.")] = None,
    t: Annotated[str | None, Query(description="Cache-busting value; ignored.")] = None,
    sig: Annotated[
        str | None,
        Query(description="URL signature (`POST /images/{id}/sign` makes signed URLs); checked only where needed."),
    ] = None,
    exp: Annotated[str | None, Query(description="Expiry of the URL signature (epoch seconds).")] = None,
) -> ServeQuery:
    options = v2_options(runtime, w=w, h=h, q=q, format=format, thumb=thumb, fit=fit, enlarge=enlarge)
    return ServeQuery(info=info, token=token, options=options, sig=sig, exp=exp)


def v2_options(
    runtime: Runtime,
    *,
    w: int | None,
    h: int | None,
    q: int | None,
    format: str | None,
    thumb: bool,
    fit: str | None,
    enlarge: bool,
) -> TransformOptions:
    """The v2 query options as `TransformOptions` (shared by the route and the warm fast path)."""
    return parse_v2_options(
        thumbnail_size=runtime.settings.imaging.thumbnail_size,
        limits=runtime.output_limits,
        w=w,
        h=h,
        q=q,
        format=format,
        thumb=thumb,
        fit=fit,
        enlarge=enlarge,
    )


def parse_v2_options(
    *,
    thumbnail_size: int,
    limits: OutputLimits,
    w: int | None,
    h: int | None,
    q: int | None,
    format: str | None,
    thumb: bool,
    fit: str | None,
    enlarge: bool,
) -> TransformOptions:
    """`v2_options` without a runtime (the CLI has none)."""
    if thumb:
        w, h, fit = w or thumbnail_size, h or thumbnail_size, fit or "cover"
    try:
        return make_transform(width=w, height=h, fit=fit, quality=q, format=format, enlarge=enlarge, limits=limits)
    except InvalidTransform as error:  # name the field as this API's clients sent it
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        raise


def v2_query(options: TransformOptions) -> dict[str, str]:
    """The v2 serve query that asks for exactly `options` (normalised: `thumb` comes out as its w, h and fit)."""
    query = {"w": options.width, "h": options.height, "q": options.quality, "format": options.format}
    found = {name: str(value) for name, value in query.items() if value is not None}
    if options.fit != "inside":
        found["fit"] = options.fit
    if options.enlarge:
        found["enlarge"] = "true"
    return found


def transform_url(image_url: str, options: TransformOptions, signature: dict[str, str]) -> str:
    """`image_url` with the query that asks for `options`, plus the signature parameters."""
    query = urlencode(v2_query(options) | signature)
    return f"{image_url}?{query}" if query else image_url


def check_signature(
    runtime: Runtime, query: ServeQuery, *, principal: Principal, image: Owned, image_id: str, token_grants: bool
) -> float | None:
    """Raise an InvalidSignature when this transform must be signed and is not validly signed.

    Returns the seconds a checked signature has left; None when it never expires or none was needed.
    """
    mode = runtime.signing_mode
    if not signature_required(mode, principal=principal, image=image, options=query.options, token_grants=token_grants):
        return None
    return runtime.signer.verify(image_id, query.options, sig=query.sig, exp=query.exp)


ServeQueryDep = Annotated[ServeQuery, Depends(serve_query)]
