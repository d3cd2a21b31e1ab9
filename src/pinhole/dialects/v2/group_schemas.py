"""Request and response shapes of the v2 upload-group, avatar and tag routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pinhole.api.schemas import Schema
from pinhole.dialects.v2.schemas import ImagePublic


class GroupUpload(Schema):
    """What a multi-file upload answers: its group and its images, in the order the files were sent."""

    group_id: str
    data: list[ImagePublic]


class GroupPublic(Schema):
    id: str
    name: str | None
    description: str | None
    external_user_id: str | None = Field(description="The X-User-Id that uploaded the group, if any.")
    created_at: datetime
    updated_at: datetime
    images: list[ImagePublic] = Field(description="The group's images, oldest first.")


class GroupUpdate(Schema):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class AvatarPublic(Schema):
    external_user_id: str
    url: str = Field(description="The public URL (no key needed); add w, h, format... to transform it.")
    etag: str = Field(description="Changes whenever the avatar is replaced.")
    mime_type: str = Field(examples=["image/png"])
    format: str
    width: int
    height: int
    frames: int
    size: int
    created_at: datetime
    updated_at: datetime


class TagCount(Schema):
    tag: str
    count: int


class TagList(Schema):
    data: list[TagCount]
