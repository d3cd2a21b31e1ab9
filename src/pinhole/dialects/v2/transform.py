"""The v2 serve query as a route dependency: FastAPI's `Query` declarations document it in OpenAPI (and check
each value's type); `api.transform_query.parse_transform_query`, which the warm fast path calls too, parses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from pinhole.api.params import QUALITY_BOUNDS, SIDE_BOUNDS
from pinhole.api.services import DeliveryDep
from pinhole.api.transform_query import TransformExtras
from pinhole.imaging.options import TransformOptions


@dataclass(frozen=True)
class ServeQuery:
    options: TransformOptions
    extras: TransformExtras


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
    # The parameters above only document the query (FastAPI has checked their types); the parser reads it.
    options, extras = delivery.parse_query(request.query_params)
    return ServeQuery(options=options, extras=extras)


ServeQueryDep = Annotated[ServeQuery, Depends(serve_query)]
