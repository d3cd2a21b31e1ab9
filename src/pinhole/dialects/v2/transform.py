"""The v2 serve query as a route dependency: FastAPI's `Query` declarations document it in OpenAPI (and check
each value's type); `api.transform_query.parse_transform_query`, which the warm fast path calls too, parses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from pinhole.api.answers import raises
from pinhole.api.params import QUALITY_BOUNDS, SIDE_BOUNDS
from pinhole.api.services import DeliveryDep
from pinhole.api.transform_query import TransformExtras
from pinhole.errors import InvalidSignature, InvalidTransform
from pinhole.imaging.options import TransformOptions


@dataclass(frozen=True)
class ServeQuery:
    options: TransformOptions
    extras: TransformExtras


@raises(InvalidTransform, InvalidSignature)
async def serve_query(
    request: Request,
    delivery: DeliveryDep,
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
        Literal["inside", "cover", "fill", "pad", "outside"] | None,
        Query(
            description="inside (default) keeps the aspect ratio; cover crops to exactly w x h; fill stretches; "
            "pad letterboxes onto exactly w x h (bg); outside covers w x h without cropping."
        ),
    ] = None,
    enlarge: Annotated[bool, Query(description="Allow output larger than the original.")] = False,
    dpr: Annotated[str | None, Query(description="Device pixel ratio, 1-4: multiplies w and h.")] = None,
    crop: Annotated[str | None, Query(description="Region x,y,w,h cut before resizing (pixels or fractions).")] = None,
    gravity: Annotated[
        str | None, Query(description="Where cover/pad place: n, ne, e, se, s, sw, w, nw, centre, smart, entropy.")
    ] = None,
    fp: Annotated[str | None, Query(description="Focal point x,y (fractions) a cover crop centres on.")] = None,
    blur: Annotated[str | None, Query(description="Gaussian blur sigma (0-100).")] = None,
    sharpen: Annotated[str | None, Query(description="Sharpen sigma (0-10); empty or true: 1.")] = None,
    rotate: Annotated[str | None, Query(description="Rotate clockwise: 90, 180 or 270.")] = None,
    flip: Annotated[bool, Query(description="Turn upside down.")] = False,
    flop: Annotated[bool, Query(description="Mirror left to right.")] = False,
    grayscale: Annotated[bool, Query(description="Grey pixels.")] = False,
    bg: Annotated[str | None, Query(description="Background RRGGBB[AA] for pad and for flattening alpha.")] = None,
    wm: Annotated[
        str | None, Query(description="Watermark: the id of an image of the same client, or site (the configured one).")
    ] = None,
    wm_gravity: Annotated[str | None, Query(description="Watermark place: a compass point (default se).")] = None,
    wm_margin: Annotated[str | None, Query(description="Watermark distance to the edges, pixels (default 16).")] = None,
    wm_opacity: Annotated[str | None, Query(description="Watermark opacity, above 0 to 1 (default 0.5).")] = None,
    wm_scale: Annotated[str | None, Query(description="Watermark width / output width (default 0.25).")] = None,
    preset: Annotated[
        str | None, Query(description="A named option set (`transforms.presets`); other options override its own.")
    ] = None,
    info: Annotated[bool, Query(description="Return the image's metadata as JSON instead of the image.")] = False,
    token: Annotated[str | None, Query(description="Share token for a private image.")] = None,
    t: Annotated[str | None, Query(description="Cache-busting value; ignored.")] = None,
    sig: Annotated[
        str | None,
        Query(description="URL signature (`POST /images/{id}/sign` makes signed URLs); checked only where needed."),
    ] = None,
    exp: Annotated[str | None, Query(description="Expiry of the URL signature (epoch seconds).")] = None,
) -> ServeQuery:
    # The parameters above only document the query (FastAPI has checked their types); the parser reads it.
    options, extras = delivery.parse_query(request.query_params)
    return ServeQuery(options=options, extras=extras)


ServeQueryDep = Annotated[ServeQuery, Depends(serve_query)]
