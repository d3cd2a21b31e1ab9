"""`POST /images/{id}/sign`: the owner asks for a signed transform URL to hand to strangers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from pydantic import Field

from pinhole.api.principals import ClientPrincipal
from pinhole.api.schemas import Schema
from pinhole.api.services import DeliveryDep
from pinhole.api.transform_query import read_option_names, transform_url
from pinhole.api.urls import image_url
from pinhole.dialects.v2.errors import V2Route

router = APIRouter(tags=["v2"], route_class=V2Route)


class SignedUrlCreate(Schema):
    """The transform, in the serve query's words, and how long the URL should work."""

    w: int | None = Field(default=None, description="Resize width (pixels).", examples=[800])
    h: int | None = Field(default=None, description="Resize height (pixels).")
    q: int | None = Field(default=None, description="Quality, 1-100.")
    format: str | None = Field(default=None, description="Output format: jpeg, png, webp, avif or gif.")
    thumb: bool = Field(default=False, description="A square thumbnail (cropped to fill).")
    fit: Literal["inside", "cover", "fill", "pad", "outside"] | None = Field(
        default=None, description="How w x h is filled."
    )
    enlarge: bool = Field(default=False, description="Allow output larger than the original.")
    options: dict[str, str] = Field(
        default={},
        description="Further serve-query options as the URL spells them (docs/transforms.md): dpr, crop, gravity, fp, "
        "blur, sharpen, rotate, flip, flop, grayscale, bg, wm, wm_gravity, wm_margin, wm_opacity, wm_scale, preset.",
        examples=[{"gravity": "smart", "fit": "cover"}],
    )
    expires_in: int | None = Field(
        default=None,
        ge=1,
        description="Seconds the URL works; at most the server's `signing.max_expiry_days`, which is also the default.",
    )


class SignedUrlPublic(Schema):
    url: str = Field(description="The serve URL with its normalised transform options, `sig` and `exp`.")
    expires_at: datetime = Field(description="When the URL stops working.")


@router.post(
    "/images/{image_id}/sign",
    name="images.sign",
    summary="Get a signed transform URL (owner only)",
    response_model=SignedUrlPublic,
)
async def sign_image_url(
    request: Request,
    delivery: DeliveryDep,
    principal: ClientPrincipal,
    image_id: str,
    body: Annotated[SignedUrlCreate | None, Body()] = None,
) -> SignedUrlPublic:
    body = body or SignedUrlCreate()
    # `options` spells the rest as a URL does (an unknown name is a 400 naming it); the body's own fields win.
    fields = read_option_names(body.options)
    fields = replace(
        fields,
        w=body.w if body.w is not None else fields.w,
        h=body.h if body.h is not None else fields.h,
        q=body.q if body.q is not None else fields.q,
        format=body.format or fields.format,
        fit=body.fit or fields.fit,
        thumb=body.thumb or fields.thumb,
        enlarge=body.enlarge or fields.enlarge,
    )
    options = delivery.options(fields)
    signed = await delivery.sign_for(principal, image_id, options, expires_in=body.expires_in)
    assert signed.expires_at is not None  # the API never signs for good
    url = transform_url(image_url(request, signed.image_id), options, signed.params)
    return SignedUrlPublic(url=url, expires_at=signed.expires_at)
