"""Request and response shapes of the v2 album routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from pinhole.api.schemas import Schema
from pinhole.dialects.v2.schemas import Pagination

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_EXTERNAL_ID = 255


class AlbumCreate(Schema):
    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Holidays 2026"])
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    is_public: bool = Field(default=False, description="Public albums are readable by anyone.")
    album_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_EXTERNAL_ID,
        description="Your own id for the album, unique within your client; usable in place of our id.",
    )


class AlbumUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION, description="null or '' clears it.")
    is_public: bool | None = None
    album_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_EXTERNAL_ID, description="null clears your id for the album."
    )


class AlbumPublic(Schema):
    id: str = Field(examples=["0b7c9e0e-5f1a-4c55-9d8a-3e1f2a6b7c8d"])
    album_id: str | None = Field(description="Your own id for the album, if you gave one.")
    name: str
    description: str | None
    is_public: bool
    external_user_id: str | None = Field(description="The user (X-User-Id or account) who owns the album.")
    image_count: int = Field(description="The album's images the caller may see (all of them for its owner).")
    created_at: datetime
    updated_at: datetime


class AlbumList(Schema):
    data: list[AlbumPublic]
    pagination: Pagination


class AlbumImagesChange(Schema):
    image_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=100, description="Image ids (all or none are applied)."
    )


class AlbumTokenCreate(Schema):
    expires_in: int | None = Field(
        default=None, ge=1, le=315_360_000, description="Seconds until the token stops working; none = never."
    )


class AlbumTokenPublic(Schema):
    token: str = Field(description="Shown once; keep it. Only a hash is stored.")
    url: str = Field(description="The album, readable by anyone holding this URL.")
    expires_at: datetime | None
    created_at: datetime
