"""The userphotos JSON bodies, field for field as its document shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class UserphotosDimensions(BaseModel):
    width: int
    height: int


class UserphotosUploadResponse(BaseModel):
    success: Literal[True] = True
    image_id: str = Field(examples=["img_1234567890abcdef"], pattern=r"^img_[0-9a-f]{16}$")
    user_id: str = Field(examples=["12345"])
    image_url: str = Field(examples=["https://cdn.user.photos/img_1234567890abcdef"])
    thumbnail_url: str = Field(examples=["https://cdn.user.photos/img_1234567890abcdef?w=150&h=150"])
    upload_date: str = Field(description="ISO 8601, UTC, whole seconds.", examples=["2024-01-15T10:30:00Z"])
    file_size: int = Field(description="Bytes of the stored image (as served).", examples=[245760])
    dimensions: UserphotosDimensions


class UserphotosErrorBody(BaseModel):
    code: str = Field(examples=["INVALID_IMAGE_FORMAT"])
    message: str
    details: str | None = None


class UserphotosErrorResponse(BaseModel):
    success: Literal[False] = False
    error: UserphotosErrorBody
