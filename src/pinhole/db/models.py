"""Tables. API schemas live with each API; these are storage shapes only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


ACCOUNTS_CLIENT_ID = "accounts"
"""The built-in tenant that user accounts (and guest uploads) live in; it has no usable API key."""


class Client(Base):
    """A tenant: an application that calls the API with its key.

    Quotas and the file-size limit are per client; None means the server-wide default from the settings.
    `rate_limits` holds the client's own rate-limit rules (scope -> `10/minute` or `off`), which override the
    settings' rules for requests made with its key; None means the settings' rules alone.
    """

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    quota_images: Mapped[int | None] = mapped_column(BigInteger, default=None)
    max_file_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_quota_images: Mapped[int | None] = mapped_column(BigInteger, default=None)
    rate_limits: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    watermark: Mapped[str | None] = mapped_column(String(500), default=None)  # v2 wm options (migration 0007)
    protect_originals: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """A person's account. Email and username are stored lower-cased; either signs in.

    Account images live in the accounts tenant with `owner_id` = the user's id.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), default=ACCOUNTS_CLIENT_ID)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    status: Mapped[str] = mapped_column(String(16), default="active")
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    quota_images: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Choices on /account (migration 0012), both off by default: keep the GPS position of uploads; show
    # `display_name` as the uploader on the viewer pages of public images.
    keep_location: Mapped[bool] = mapped_column(Boolean, default=False)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)


class AuthSession(Base):
    """One sign-in: an API session (JWT access + rotating refresh tokens) or a browser session (cookie + CSRF)."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)


class SessionToken(Base):
    """A refresh token (API sessions) or cookie token (browser sessions); only its hash is kept.

    Rotation marks the old token used; presenting a used token again revokes the whole session (reuse detection).
    """

    __tablename__ = "session_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ApiKey(Base):
    """A personal `sk_` API key of a user; only its hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UploadKey(Base):
    """An upload-only key of a user (the uploadkey API, ShareX). The key is re-derivable from `nonce` and the
    server secret (so a ShareX config can be fetched again); the database alone holds only its hash."""

    __tablename__ = "upload_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    nonce: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Blob(Base):
    """An original stored once per content hash; images and avatars are aliases onto it.

    A `preserved` blob is not deleted with its last image (a delete with Slink's `preserveOnDisk`): it is kept
    from `preserved_at` for `storage.preserved_retention_days`, then the store sweep deletes it.
    """

    __tablename__ = "blobs"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    preserved: Mapped[bool] = mapped_column(Boolean, default=False)
    preserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        # Keyset paging: newest first within a client, optionally one owner.
        Index("ix_images_client_created", "client_id", "created_at", "id"),
        Index("ix_images_client_owner_created", "client_id", "owner_id", "created_at", "id"),
        Index("ix_images_client_owner_updated", "client_id", "owner_id", "updated_at", "id"),
        Index("ix_images_client_owner_taken", "client_id", "owner_id", "taken_at", "id"),  # sort by date taken
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255), default=None)
    content_hash: Mapped[str] = mapped_column(ForeignKey("blobs.content_hash", ondelete="RESTRICT"), index=True)
    original_name: Mapped[str | None] = mapped_column(String(255), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    mime_type: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(BigInteger)
    view_count: Mapped[int] = mapped_column(BigInteger, default=0)
    focal_x: Mapped[float | None] = mapped_column(Float, default=None)  # fractions of width / height (migration 0007)
    focal_y: Mapped[float | None] = mapped_column(Float, default=None)
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("image_groups.id", ondelete="SET NULL"), default=None, index=True
    )
    # userimages: after a PUT naming another image, this record answers that image's url and key (its own URL
    # keeps serving its own bytes). No foreign key: a deleted target just means the record answers its own again.
    url_image_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # What a page shows while the picture loads (imaging/placeholder.py); null until computed.
    placeholder_blurhash: Mapped[str | None] = mapped_column(String(64), default=None)
    placeholder_thumbhash: Mapped[str | None] = mapped_column(String(64), default=None)
    placeholder_color: Mapped[str | None] = mapped_column(String(7), default=None)
    placeholder_lqip: Mapped[str | None] = mapped_column(Text, default=None)
    # Photo details from the upload's EXIF (imaging/photo_details.py, migration 0012); the position only when the
    # owner keeps locations (`User.keep_location`).
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    camera: Mapped[str | None] = mapped_column(String(100), default=None)
    lens: Mapped[str | None] = mapped_column(String(100), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)

    tags: Mapped[list[ImageTag]] = relationship(
        back_populates="image", cascade="all, delete-orphan", lazy="selectin", order_by="ImageTag.tag"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]

    @property
    def focal_point(self) -> tuple[float, float] | None:
        return None if self.focal_x is None or self.focal_y is None else (self.focal_x, self.focal_y)


class ImageTag(Base):
    __tablename__ = "image_tags"
    __table_args__ = (Index("ix_image_tags_tag", "tag", "image_id"),)

    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    image: Mapped[Image] = relationship(back_populates="tags")


class CloudinaryPublicId(Base):
    """A public id given at a Cloudinary-API upload, naming an image of its client (dialects.cloudinary)."""

    __tablename__ = "cloudinary_public_ids"

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)


class RemoteOriginal(Base):
    """A remote origin URL fetched for a proxy URL (`pinhole.services.remote_origins`): an alias onto the blob of
    the bytes it gave, with the origin's validators, until `proxy.origin_ttl_seconds` after `checked_at`."""

    __tablename__ = "remote_originals"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the normalised URL
    url: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(ForeignKey("blobs.content_hash", ondelete="RESTRICT"), index=True)
    mime_type: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(255), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_accessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ProxyClientKey(Base):
    """A client's own key for one proxy URL dialect (imgproxy, thumbor, imgix, cloudinary), beside the instance-wide
    keys of the settings. `sealed` is the secret part (AES-GCM under a key derived from the server secret), since
    it must be usable for HMAC; `cloud_name` and `api_key` are Cloudinary's public parts (migration 0014)."""

    __tablename__ = "proxy_client_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    dialect: Mapped[str] = mapped_column(String(16))
    cloud_name: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    api_key: Mapped[str | None] = mapped_column(String(128), default=None)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Variant(Base):
    """A rendered transform of an original, keyed by (content hash, canonical options)."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("content_hash", "canonical"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("blobs.content_hash", ondelete="CASCADE"))
    canonical: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_accessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ShareLink(Base):
    """An unguessable link to one image; only a hash of the token is stored."""

    __tablename__ = "share_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ImageGroup(Base):
    """The images of one multi-file upload request (the userimages API document's `groupId`), owned like images."""

    __tablename__ = "image_groups"
    __table_args__ = (Index("ix_image_groups_client_owner", "client_id", "owner_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def is_private(self) -> bool:
        """Groups are listings of their images: only their tenant may read them (the policy's READ rule)."""
        return True


class Album(Base):
    """A named collection of a user's images. `external_id` is the client's own id for it (v2's `albumId`)."""

    __tablename__ = "albums"
    __table_args__ = (
        UniqueConstraint("client_id", "external_id"),
        Index("ix_albums_client_owner_created", "client_id", "owner_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255), default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def is_private(self) -> bool:
        return not self.is_public


class AlbumImage(Base):
    __tablename__ = "album_images"

    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlbumToken(Base):
    """An access token to a private album (opens the album and its images, nothing else); only its hash is kept."""

    __tablename__ = "album_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    album_id: Mapped[str] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Avatar(Base):
    """One avatar per (client, external user), an alias onto a blob; replacing it swaps `content_hash` in place."""

    __tablename__ = "avatars"
    __table_args__ = (UniqueConstraint("client_id", "owner_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(ForeignKey("blobs.content_hash", ondelete="RESTRICT"), index=True)
    mime_type: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def is_private(self) -> bool:
        """Avatars are public pictures (the v2 API document serves them to anyone)."""
        return False


class ClientCounters(Base):
    """Running totals of one client, kept exact by database triggers (migration 0004), never by application code.

    `variant_bytes` counts the variants of every blob the client references (by an image or an avatar) once per
    client; `views` is the sum of its images' flushed `view_count`. A missing row means all zeros.
    """

    __tablename__ = "client_counters"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    images: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    original_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    variant_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    views: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    albums: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    avatars: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    avatar_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    groups: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StorageTotals(Base):
    """What is stored once whoever references it: blobs (deduplicated originals) and variants. One row, id 1,
    kept by triggers like `ClientCounters`."""

    __tablename__ = "storage_totals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blobs: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    blob_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    variants: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    variant_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AppSetting(Base):
    """A setting an admin changed at run time; it wins over the configured value until deleted."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TransformPreset(Base):
    """A named option set an admin added at run time (`transforms.presets` from the settings are not stored)."""

    __tablename__ = "transform_presets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    query: Mapped[str] = mapped_column(String(1000))  # a v2 transform query, checked by the transform parser
    eager: Mapped[bool] = mapped_column(Boolean, default=False)  # rendered in the background after each upload
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ResumableUpload(Base):
    """A tus upload in progress (or just finished): what any instance needs to continue it.

    `received` bytes of `length` are in, as the blob-store pieces listed in `pieces` (JSON list of piece names, in
    order, `pinhole.storage.partial`); it only grows, and it is changed with `pieces` by one conditional UPDATE, so
    two instances cannot both record a piece at one offset. `fields` holds the parsed `Upload-Metadata` (filename,
    description, tags, albumId, isPrivate) and `metadata_header` the header as sent (answered by HEAD). Once the
    last byte is in and the file is ingested, `image_id` is set and the pieces are gone; the row stays until
    `expires_at` so the client can learn the image's id, then the sweep deletes it (as it deletes abandoned ones).
    `finishing_until` is the lease of the request putting a complete upload's file through the ingest: one at a
    time, and another may take over once it lapses (the first one's instance stopped).
    """

    __tablename__ = "resumable_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255), default=None)
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    pieces: Mapped[str] = mapped_column(Text, default="[]")
    fields: Mapped[str] = mapped_column(Text, default="{}")
    metadata_header: Mapped[str | None] = mapped_column(Text, default=None)
    image_id: Mapped[str | None] = mapped_column(String(36), default=None)
    finishing_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PasswordReset(Base):
    """A one-time password reset link an admin made (migration 0013): only the token's SHA-256 is kept."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TrashedImage(Base):
    """An image deleted in the web app, kept for `web.trash_days` so it can be restored (migration 0013).

    The `images` row is gone (no API finds it, quotas no longer count it); `record` holds its columns, tags and
    album memberships as JSON, and the content hash keeps its blob from being released until the trash is emptied.
    """

    __tablename__ = "trashed_images"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("blobs.content_hash", ondelete="RESTRICT"), index=True)
    original_name: Mapped[str | None] = mapped_column(String(255), default=None)
    size: Mapped[int] = mapped_column(BigInteger)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
