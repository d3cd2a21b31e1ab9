"""Request and response shapes of the statistics routes and the admin API (v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool

from pinhole.api.schemas import Schema
from pinhole.dialects.v2.album_schemas import AlbumPublic
from pinhole.dialects.v2.group_schemas import AvatarPublic
from pinhole.dialects.v2.schemas import ImagePublic, Pagination


class Counters(Schema):
    """A client's counters (kept exact by database triggers; see docs/admin.md)."""

    images: int
    original_bytes: int = Field(description="Sum of the client's image sizes (each image counts, as for quotas).")
    variant_bytes: int = Field(
        description="Variants of every original the client references (by image or avatar), once per original."
    )
    views: int = Field(description="Flushed image views (the server buffers them for a few seconds).")
    albums: int
    avatars: int
    avatar_bytes: int
    groups: int = Field(description="Upload groups (multi-file uploads).")


class UserCounters(Schema):
    """One user's own figures within its client, counted from its rows."""

    user_id: str
    images: int
    original_bytes: int
    views: int
    albums: int
    avatars: int


class QuotaUsage(Schema):
    quota: str = Field(examples=["client_bytes"], description="client_bytes, client_images, user_bytes, user_images")
    limit: int | None = Field(description="null: unlimited.")
    used: int


class ClientStatsResponse(Schema):
    client_id: str
    client: Counters | None = Field(description="The whole client's figures; null for user accounts.")
    user: UserCounters | None = Field(description="With X-User-Id (or for an account): that user's own figures.")
    quotas: list[QuotaUsage]


class Totals(Schema):
    clients: int
    images: int
    original_bytes: int
    views: int
    albums: int
    avatars: int
    avatar_bytes: int
    groups: int
    blobs: int = Field(description="Originals as stored: once per content, however many images share them.")
    blob_bytes: int
    variants: int
    variant_bytes: int = Field(description="Every variant once (per-client figures count shared originals twice).")


class ClientStatsRow(Counters):
    client_id: str
    name: str
    active: bool


class AdminStats(Schema):
    totals: Totals
    clients: list[ClientStatsRow]


class QuotaSettings(Schema):
    """The client's own values; null means the server default, 0 means unlimited."""

    quota_bytes: int | None
    quota_images: int | None
    max_file_bytes: int | None
    user_quota_bytes: int | None
    user_quota_images: int | None


class EffectiveLimits(Schema):
    """What applies after defaults; null means unlimited."""

    client_bytes: int | None
    client_images: int | None
    user_bytes: int | None
    user_images: int | None
    max_file_bytes: int


class AdminClient(Schema):
    id: str
    name: str
    active: bool
    key_prefix: str | None = Field(description="The start of its live key; null when it has none.")
    has_key: bool
    created_at: datetime
    key_rotated_at: datetime | None
    quotas: QuotaSettings
    rate_limits: dict[str, str] | None = Field(
        description="The client's own rules (scope -> `10/minute` or `off`) over the server's; null: none."
    )
    stats: Counters


class AdminClientDetail(AdminClient):
    limits: EffectiveLimits
    quota_usage: list[QuotaUsage]


class AdminClientList(Schema):
    data: list[AdminClient]


class AdminClientUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None
    quota_bytes: int | None = Field(default=None, ge=0)
    quota_images: int | None = Field(default=None, ge=0)
    max_file_bytes: int | None = Field(default=None, ge=0)
    user_quota_bytes: int | None = Field(default=None, ge=0)
    user_quota_images: int | None = Field(default=None, ge=0)
    rate_limits: dict[str, str] | None = Field(
        default=None, description="Replaces the client's own rules; null or {} removes them."
    )
    watermark: str | None = Field(
        default=None,
        max_length=500,
        description="The watermark every public variant of this client's images carries, as v2 options "
        "(`wm=<image id of this client>&wm_opacity=0.4`, or `wm=site`); null removes it.",
        examples=["wm=7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41&wm_gravity=se&wm_opacity=0.4"],
    )
    protect_originals: bool | None = Field(
        default=None, description="Serve originals only to their owners (strangers get 403)."
    )


class AdminImage(ImagePublic):
    client_id: str


class AdminImageList(Schema):
    data: list[AdminImage]
    pagination: Pagination


class AdminAvatar(AvatarPublic):
    id: str = Field(description="The avatar's id (the admin routes' `{avatar_id}`).")
    client_id: str


class AdminAvatarList(Schema):
    data: list[AdminAvatar]
    pagination: Pagination


class AdminAlbum(AlbumPublic):
    client_id: str


class AdminAlbumList(Schema):
    data: list[AdminAlbum]
    pagination: Pagination


class RuntimeSettingPublic(Schema):
    """One run-time setting (docs/admin.md): its value now and where that value comes from."""

    key: str = Field(examples=["guestUploads"], description="The setting's name, as in the PATCH body.")
    type: str = Field(examples=["boolean"])
    description: str
    value: bool = Field(description="The value in force (the override if there is one, else the configured value).")
    configured: bool = Field(description="The value from the configuration (file or environment).")
    overridden: bool = Field(description="Whether an admin changed it; a reset returns it to `configured`.")
    updated_by: str | None = Field(description="The id of the admin who changed it (null when not overridden).")
    updated_by_username: str | None
    updated_at: datetime | None


class RuntimeSettingList(Schema):
    data: list[RuntimeSettingPublic]


class RuntimeSettingsUpdate(Schema):
    """Only the settings sent change: a value overrides the configured one, null resets to it."""

    guest_uploads: StrictBool | None = Field(
        default=None, description="Guest uploads (web upload page, `POST /v2/images` and slink's guest upload)."
    )
    signup: StrictBool | None = Field(default=None, description="The web app's sign-up page.")


ProxyDialect = Literal["imgproxy", "thumbor", "imgix", "cloudinary"]


class ProxyKeyCreate(Schema):
    """A client's own key for a proxy URL dialect. Give the secrets the client's sites already sign with, or leave
    them out to have new ones made (shown once, in the answer)."""

    dialect: ProxyDialect
    key: str | None = Field(default=None, description="imgproxy: the key, hex (`IMGPROXY_KEY`).")
    salt: str | None = Field(default=None, description="imgproxy: the salt, hex (`IMGPROXY_SALT`).")
    security_key: str | None = Field(default=None, description="thumbor: the `SECURITY_KEY`.")
    token: str | None = Field(default=None, description="imgix: the source's secure URL token.")
    cloud_name: str | None = Field(
        default=None, description="Cloudinary (required): the cloud name its URLs carry.", examples=["acme"]
    )
    api_key: str | None = Field(default=None, description="Cloudinary: the API key (made when left out).")
    api_secret: str | None = Field(default=None, description="Cloudinary: the API secret.")


class ProxyKeyPublic(Schema):
    id: str
    dialect: ProxyDialect
    cloud_name: str | None = Field(description="Cloudinary's cloud name (public); null for the other dialects.")
    api_key: str | None = Field(description="Cloudinary's API key (public); null for the other dialects.")
    created_at: datetime


class ProxyKeyCreated(ProxyKeyPublic):
    """The new key with its secrets: the only answer that shows them."""

    key: str | None = None
    salt: str | None = None
    security_key: str | None = None
    token: str | None = None
    api_secret: str | None = None


class ProxyKeyList(Schema):
    data: list[ProxyKeyPublic]


class PresetPublic(Schema):
    """A named set of transform options (docs/transforms.md, "Presets"): requests use `preset=<name>`."""

    name: str = Field(examples=["card"])
    query: str = Field(examples=["w=400&h=300&fit=cover&gravity=smart"], description="The options, as a v2 query.")
    eager: bool = Field(description="Rendered in the background right after each upload, so the first view is warm.")
    configured: bool = Field(
        description="From the configuration (settings file or environment): read-only through this API."
    )
    updated_by: str | None = Field(description="The id of the admin who last changed it (null for configured ones).")
    updated_by_username: str | None
    updated_at: datetime | None


class PresetList(Schema):
    data: list[PresetPublic]


class PresetCreate(Schema):
    name: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$", examples=["card"])
    query: str = Field(min_length=1, max_length=1000, examples=["w=400&h=300&fit=cover&gravity=smart"])
    eager: StrictBool = False


class PresetUpdate(Schema):
    """Only the fields sent change."""

    query: str | None = Field(default=None, min_length=1, max_length=1000, examples=["w=480&h=360&fit=cover"])
    eager: StrictBool | None = None
