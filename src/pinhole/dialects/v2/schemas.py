"""Request and response shapes of the native v2 API (separate from the database tables)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pinhole.api.schemas import Schema


class FocalPoint(Schema):
    x: float = Field(ge=0, le=1, description="Fraction of the width, from the left.", examples=[0.3])
    y: float = Field(ge=0, le=1, description="Fraction of the height, from the top.", examples=[0.6])


class Location(Schema):
    """Where a photo was taken (its EXIF GPS position), in decimal degrees (WGS 84)."""

    latitude: float = Field(ge=-90, le=90, examples=[48.8584])
    longitude: float = Field(ge=-180, le=180, examples=[2.2945])


class PlaceholderPublic(Schema):
    """What to show while the picture loads; see docs/formats.md."""

    blurhash: str = Field(examples=["LEHV6nWB2yk8pyo0adR*.7kCMdnj"])
    thumbhash: str = Field(description="Base64.", examples=["1QcSHQRnh493V4dIh4eXh1h4kJUI"])
    color: str = Field(description="The dominant colour, `#rrggbb`.", examples=["#7a5c3e"])
    lqip: str = Field(description="A tiny WebP as a `data:` URI (a few hundred bytes).")


class ImagePublic(Schema):
    id: str = Field(examples=["7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"])
    url: str = Field(description="Where the image is served; add w, h, format... to transform it.")
    original_name: str | None = Field(examples=["holiday.jpg"])
    description: str | None
    tags: list[str] = Field(examples=[["beach", "2026"]])
    is_private: bool
    external_user_id: str | None = Field(description="The X-User-Id that uploaded it, if any.")
    mime_type: str = Field(examples=["image/jpeg"])
    format: str = Field(examples=["jpeg"])
    width: int
    height: int
    frames: int = Field(description="1 for still images; the frame count of animations.")
    size: int = Field(description="Bytes of the stored original.")
    group_id: str | None = Field(default=None, description="The upload group, when it came with other files.")
    focal_point: FocalPoint | None = Field(
        default=None, description="Where cover crops of this image centre unless a request says otherwise."
    )
    views: int
    created_at: datetime
    updated_at: datetime
    srcset: str = Field(
        default="",
        description="For <img srcset>: the image at a ladder of widths up to its own, signed when signing applies.",
    )
    placeholder: PlaceholderPublic | None = Field(
        default=None, description="What to show while it loads; null until computed (older images: see backfill)."
    )
    taken_at: datetime | None = Field(
        default=None,
        description="When the photo was taken, from its EXIF (read at upload; the stored file has no metadata): "
        "UTC when the photo recorded its offset, else the camera's clock as is. Null when unknown.",
    )
    camera: str | None = Field(default=None, description="Camera make and model from EXIF.", examples=["Canon EOS R5"])
    lens: str | None = Field(default=None, description="Lens from EXIF.", examples=["RF24-105mm F4 L IS USM"])
    location: Location | None = Field(
        default=None,
        description="The EXIF GPS position: kept only when the owner's account keeps locations (off by default), "
        "and shown only to who may change the image (its owner, an admin).",
    )


class Pagination(Schema):
    page: int | None = Field(description="The page number in page mode; null in cursor mode.")
    limit: int
    total: int | None = Field(description="Matching images in page mode; null in cursor mode (it stays fast).")
    total_pages: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last one.")


class ImageList(Schema):
    data: list[ImagePublic]
    pagination: Pagination


class ImageUpdate(Schema):
    description: str | None = Field(default=None, max_length=2000)
    tags: list[str] | None = Field(default=None, description="Replaces the image's tags.")
    is_private: bool | None = None
    focal_point: FocalPoint | None = Field(
        default=None, description="Where cover crops centre (fractions); null removes it."
    )


class ImageFromUrl(Schema):
    """`POST /v2/images` as JSON: the image's address instead of its bytes, with the upload's other fields."""

    url: str = Field(
        min_length=1,
        max_length=8192,
        description="An http(s) URL pinhole fetches the image from (docs/uploads.md).",
        examples=["https://example.com/photos/beach.jpg"],
    )
    description: str | None = Field(default=None, max_length=2000)
    tags: list[str] | str | None = Field(default=None, description="Text tags: a list, or one string of commas.")
    is_private: bool = False
    album_id: str | None = Field(default=None, description="Add the image to this album of the caller's.")


class ShareCreate(Schema):
    expires_in: int | None = Field(
        default=None, ge=1, le=315_360_000, description="Seconds until the link stops working; none = never."
    )


class SharePublic(Schema):
    token: str = Field(description="Shown once; keep it. Only a hash is stored.")
    url: str = Field(description="Serves the image to anyone holding the link.")
    image_id: str
    expires_at: datetime | None
    created_at: datetime


class ApiKeyInfo(Schema):
    client_id: str
    client_name: str
    key_prefix: str
    active: bool


class Status(Schema):
    status: str = Field(examples=["ok"])
    version: str
    database: str
    storage: str
    api_key: ApiKeyInfo | None = Field(description="The calling key's client; null when no X-API-Key was sent.")
