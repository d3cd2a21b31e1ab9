"""Response and request shapes of the uploadkey API (its document shows none: these are pinhole's choices)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pinhole.api.schemas import Schema


class ImageOut(Schema):
    id: str = Field(description="The image's id; the document's `{uuid}` and `{id}` are both this value.")
    uuid: str = Field(examples=["7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"])
    url: str = Field(description="`/{uuid}.{ext}`: public, or with `?key=` for a private image when known.")
    proxy_url: str = Field(description="`/api/proxy/{uuid}.{ext}`: for the signed-in owner, counts no view.")
    filename: str | None = Field(examples=["holiday.jpg"])
    extension: str = Field(examples=["jpg"], description="Of the stored original; `{ext}` may name another format.")
    mime_type: str = Field(examples=["image/jpeg"])
    size: int = Field(description="Bytes of the stored original.")
    width: int
    height: int
    private: bool
    key: str | None = Field(
        description="Private images: the base64url key that opens `/{uuid}.{ext}?key=`; shown to the uploader "
        "and to the owner, else null."
    )
    views: int
    created_at: datetime


class ImageListOut(Schema):
    data: list[ImageOut]
    total: int = Field(description="The caller's images in all.")
    page: int
    limit: int


class PrivacyUpdate(Schema):
    private: bool = Field(description="Make the image private (its key is returned) or public.")


class Message(Schema):
    message: str = Field(examples=["Logged out"])


class Deleted(Message):
    uuid: str = Field(description="The deleted image's id.")
