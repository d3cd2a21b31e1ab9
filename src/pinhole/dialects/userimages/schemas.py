"""The userimages JSON bodies, field for field as its document shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FileData(BaseModel):
    url: str = Field(examples=["https://images.example.com/v2/images/0b6f...-..."])
    key: str = Field(description="`<image id>.<extension>`.", examples=["0b6f0d2e-3c51-4a8e-9c55-5f1d2c0e7a10.jpg"])


class UploadedFile(BaseModel):
    data: FileData


class UploadResponse(BaseModel):
    success: Literal[True] = True
    files: list[UploadedFile]
    groupId: str | None = Field(description="The upload group when several files were sent; null for one file.")


class UserImage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id", examples=["0b6f0d2e-3c51-4a8e-9c55-5f1d2c0e7a10"])
    userId: str = Field(examples=["user_67890"])
    url: str
    key: str
    groupId: str | None = None
    createdAt: int = Field(description="Epoch milliseconds.", examples=[1706434800000])


class UserimagesImageUpdate(BaseModel):
    """PUT body: the `url` and/or `key` of another image of the user, whose file this record then serves."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    key: str | None = Field(default=None, max_length=255)


class DeleteResponse(BaseModel):
    success: Literal[True] = True
    deletedId: str


class UserimagesGroupUpdate(BaseModel):
    """Bulk update of a group's metadata: its name and description (empty string clears one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class GroupResponse(BaseModel):
    success: Literal[True] = True
    groupId: str
    userId: str
    name: str | None
    description: str | None
    images: list[UserImage]


class GroupDeleteResponse(BaseModel):
    success: Literal[True] = True
    deletedGroupId: str
    deletedIds: list[str]
