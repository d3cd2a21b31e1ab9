"""Request and response shapes of the admin API's account routes (v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from pinhole.api.schemas import Schema


class AdminUser(Schema):
    id: str
    email: str = Field(examples=["ann@example.com"])
    username: str = Field(examples=["ann"])
    display_name: str = Field(examples=["Ann"])
    role: str = Field(examples=["user"], description="user or admin")
    status: str = Field(examples=["active"], description="active, inactive or suspended")
    created_at: datetime
    last_login_at: datetime | None
    quota_bytes: int | None = Field(description="The account's own storage quota; null: the default, 0: unlimited.")
    quota_images: int | None = Field(description="The account's own image quota; null: the default, 0: unlimited.")
    images: int = Field(description="Images the account stores (its trash not included).")
    bytes: int = Field(description="Bytes of those images.")


class AdminUserList(Schema):
    data: list[AdminUser]
    total: int
    limit: int
    offset: int


class UserFootprint(Schema):
    """What an account holds: what a suspension leaves online and a deletion removes (docs/admin.md)."""

    images: int
    bytes: int
    public_images: int
    public_bytes: int
    trashed: int = Field(description="Images in the account's web trash.")
    albums: int


class AdminUserDetail(AdminUser):
    footprint: UserFootprint


class AdminUserUpdate(Schema):
    status: Literal["active", "inactive", "suspended"] | None = Field(
        default=None, description="Anything but active revokes the account's sessions and refuses its keys."
    )
    role: Literal["user", "admin"] | None = None
    quota_bytes: int | None = Field(default=None, ge=0, description="null: the default; 0: unlimited.")
    quota_images: int | None = Field(default=None, ge=0, description="null: the default; 0: unlimited.")


class ResetLink(Schema):
    url: str = Field(
        examples=["https://img.example.com/reset/pr_9bVx3kQ2d8hWm1ZyL0aR5tN7uE4cJ6sP"],
        description="The one-time link for the account's owner; shown once (only its hash is stored).",
    )
    expires_at: datetime
