"""v2 query options (`w`, `h`, `q`, `format`, `thumb`, `fit`) → the shared `TransformOptions`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query

from pinhole.api.deps import RuntimeDep
from pinhole.errors import InvalidTransform
from pinhole.imaging.options import TransformOptions, make_transform
from pinhole.runtime import Runtime

QUERY_NAMES = {"width": "w", "height": "h", "quality": "q"}


@dataclass(frozen=True)
class ServeQuery:
    info: bool
    token: str | None
    options: TransformOptions


async def serve_query(
    runtime: RuntimeDep,
    w: Annotated[int | None, Query(description="Resize width (pixels).", examples=[800])] = None,
    h: Annotated[int | None, Query(description="Resize height (pixels).")] = None,
    q: Annotated[int | None, Query(description="Quality, 1-100.")] = None,
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
) -> ServeQuery:
    options = v2_options(runtime, w=w, h=h, q=q, format=format, thumb=thumb, fit=fit, enlarge=enlarge)
    return ServeQuery(info=info, token=token, options=options)


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
    if thumb:
        size = runtime.settings.imaging.thumbnail_size
        w, h, fit = w or size, h or size, fit or "cover"
    try:
        return make_transform(
            width=w, height=h, fit=fit, quality=q, format=format, enlarge=enlarge, limits=runtime.output_limits
        )
    except InvalidTransform as error:  # name the field as this API's clients sent it
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        raise


ServeQueryDep = Annotated[ServeQuery, Depends(serve_query)]
