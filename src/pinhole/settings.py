"""Settings: defaults, then an optional TOML file, then `PINHOLE_<SECTION>__<FIELD>` environment variables.

Validated once at start-up; `load_settings()` turns validation failures into `SettingsError` messages that name
the environment variable to fix. Nothing here is created at import time: callers build a `Settings` and pass it on.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pinhole.services.presets import preset_query

ENV_PREFIX = "PINHOLE_"
PRESET_NAME = re.compile(r"[a-z0-9_-]{1,32}")
CONFIG_FILE_VARIABLE = "PINHOLE_CONFIG"
MB = 1024 * 1024


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file `pinhole.db` in the data folder. "
        "Plain `postgresql://` and `sqlite:///` URLs are accepted and given async drivers.",
    )
    auto_migrate: bool | None = Field(
        default=None,
        description="Apply pending migrations when `pinhole serve` starts. Default: on for SQLite, off otherwise "
        "(run `pinhole db upgrade`).",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept per process (PostgreSQL).")
    max_overflow: int = Field(
        default=10,
        ge=0,
        le=500,
        description="Extra connections a busy process may open above `pool_size` (PostgreSQL).",
    )
    pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="How long a request waits for a free connection before failing with 503 (PostgreSQL).",
    )
    pool_recycle_seconds: int = Field(
        default=1800,
        ge=0,
        description="Connections older than this are replaced (0 = never); keeps proxies and failovers from "
        "leaving dead connections in the pool (PostgreSQL).",
    )
    statement_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="The server cancels any statement running longer (0 = no limit); a cancelled request answers "
        "503 (PostgreSQL `statement_timeout`).",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")
    count_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a process reuses the `total` of an image listing in page mode instead of counting "
        "every match again. Uploads and deletes through the same process show at once, through others within this "
        "time; 0 counts on every request.",
    )


class S3Settings(BaseModel):
    endpoint_url: str | None = Field(
        default=None,
        description="URL of the S3-compatible service (e.g. `http://minio:9000`). Default: AWS S3 of the region.",
    )
    bucket: str | None = Field(default=None, description="Bucket holding the blobs (must exist); required for `s3`.")
    region: str = Field(default="us-east-1", description="Region the requests are signed for.")
    access_key_id: str | None = Field(
        default=None,
        description="Access key. Default: the AWS credential chain (`AWS_*` variables, shared files, instance role).",
    )
    secret_access_key: SecretStr | None = Field(default=None, description="Secret of the access key.")
    prefix: str = Field(
        default="",
        description="Key prefix inside the bucket (e.g. `pinhole/`), so several services can share one bucket.",
    )
    path_style: bool = Field(
        default=False,
        description="Address the bucket in the path (`endpoint/bucket/key`) instead of the host name "
        "(`bucket.endpoint/key`); most self-hosted services (MinIO, Ceph, Garage) need it.",
    )
    multipart_threshold: int = Field(
        default=16 * MB, ge=5 * MB, description="Files from this size up are uploaded in parts (bytes)."
    )
    multipart_part_size: int = Field(
        default=8 * MB, ge=5 * MB, le=5 * 1024 * MB, description="Size of each part of a multipart upload (bytes)."
    )
    max_attempts: int = Field(
        default=3, ge=1, le=20, description="Attempts per request (first try plus retries of transient failures)."
    )
    timeout_seconds: float = Field(default=30, gt=0, description="Connect and read timeout of each request.")
    max_connections: int = Field(default=32, ge=1, le=1000, description="Connections kept open per process.")
    presign_originals: bool = Field(
        default=False,
        description="Answer GET requests for originals with a redirect (307) to a presigned URL of the object, so "
        "the S3 service sends the bytes instead of pinhole; variants are still proxied.",
    )
    presign_expiry_seconds: int = Field(
        default=300,
        ge=1,
        le=604_800,
        description="Validity of those presigned URLs (at most 7 days; never past an expiring signed URL).",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if value.startswith("/") or "//" in value or any(part in {".", ".."} for part in value.split("/")[:-1]):
            raise ValueError("must be a relative key prefix like `pinhole/` (no leading slash, empty, . or .. part)")
        return value

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("set both access_key_id and secret_access_key, or neither (to use the AWS chain)")
        return self


class StorageSettings(BaseModel):
    backend: Literal["local", "s3"] = Field(
        default="local", description="Blob store for originals and variants: `local` (a folder) or `s3`."
    )
    local_root: Path | None = Field(
        default=None, description="Folder of the local blob store. Default: `blobs/` in the data folder."
    )
    s3: S3Settings = S3Settings()
    sweep_interval_seconds: int = Field(
        default=3600,
        ge=0,
        description="How often each server sweeps the blob store and its temp folder: removes temp files and "
        "blobs no database row refers to, reports rows whose blob is missing (docs/deploy.md); it also runs at "
        "start-up. 0 turns the sweep off (`pinhole store check --repair` still does it on demand).",
    )
    sweep_grace_seconds: int = Field(
        default=3600,
        ge=0,
        description="Age a temp file or an unreferenced blob must reach before the sweep removes it, so an "
        "upload still in flight (on this or another instance) is never touched.",
    )
    preserved_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days a file kept by a delete with `preserveOnDisk` stays in the store once nothing refers to "
        "it; then the sweep deletes it. 0 keeps such files until `pinhole store purge-kept` removes them.",
    )

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3.bucket:
            raise ValueError("backend `s3` needs a bucket: set PINHOLE_STORAGE__S3__BUCKET")
        return self


class UploadSettings(BaseModel):
    max_file_bytes: int = Field(default=10 * MB, ge=1024, description="Largest accepted file, in bytes.")
    max_files_per_request: int = Field(default=10, ge=1, le=100, description="Files accepted in one request.")
    max_pixels: int = Field(
        default=50_000_000, ge=1, description="Largest accepted width x height (checked before decoding)."
    )
    max_frames: int = Field(default=500, ge=1, description="Most frames accepted in an animated image.")
    strip_metadata: bool = Field(
        default=True,
        description="Strip EXIF/GPS/XMP/comments (keeping the colour profile) and apply the EXIF orientation.",
    )
    placeholders: bool = Field(
        default=True,
        description="Compute BlurHash, ThumbHash, dominant colour and a tiny LQIP at upload, from the decode the "
        "upload does anyway (see docs/formats.md).",
    )
    dialect_extra_formats: list[str] = Field(
        default_factory=list,
        description='Formats (e.g. `["heic", "tiff"]`) that the APIs with a documented format list '
        "(userimages, slink, userphotos) accept besides it. v2 and the web app take every readable format.",
    )
    resumable_expiry_seconds: int = Field(
        default=86_400,
        ge=60,
        description="A resumable (tus) upload that receives no bytes for this long expires: its pieces are deleted "
        "and its URL answers 404. A finished one keeps answering its image's id for this long.",
    )
    resumable_sweep_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How often each instance deletes expired resumable uploads and orphaned pieces (0: never).",
    )


class FetchSettings(BaseModel):
    """The fetcher for remote URLs (`POST /v2/images` with `url`): built for hostile targets (docs/uploads.md)."""

    allow_private_networks: bool = Field(
        default=False,
        description="Let URLs reach loopback and private (RFC 1918, ULA, CGNAT) addresses, for tests and intranets. "
        "Link-local, multicast, unspecified and cloud-metadata addresses stay refused.",
    )
    timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="Longest a whole fetch (every redirect and the body) may take."
    )
    max_redirects: int = Field(default=3, ge=0, le=10, description="Redirects followed (each target checked again).")
    user_agent: str = Field(
        default="pinhole-fetcher/1.0 (+image upload from a URL)",
        min_length=1,
        description="The User-Agent header of every fetch.",
    )


class ProxySettings(BaseModel):
    """Remote origins of the proxy URL languages (thumbor, imgproxy, imgix, Cloudinary): docs/proxies.md."""

    allowed_sources: list[str] = Field(
        default=[],
        description='URL prefixes (JSON list, e.g. `["https://images.example.com/"]`) whose images the proxy URL '
        "languages may fetch and serve (a redirect's target, too). Matched after normalising scheme, host and port, "
        "at a `/` boundary. Empty: proxy mode off, only hosted images are served.",
    )
    origin_ttl_seconds: int = Field(
        default=3600,
        ge=0,
        description="How long a fetched original is served before the origin is asked again (with If-None-Match "
        "/ If-Modified-Since: a 304 keeps the copy, a 200 replaces it). 0: ask on every cold request.",
    )
    max_origin_bytes: int = Field(
        default=20 * MB, ge=1024, description="Largest remote original fetched, in bytes (counted while streaming)."
    )


class ImagingSettings(BaseModel):
    threads: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256, description="Image worker threads.")
    queue_size: int = Field(
        default=64,
        ge=0,
        description="Image jobs that may wait for a thread; past it requests get 503 + Retry-After.",
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="CPU priority (Linux nice value) of image work, below the event loop, so cached answers never wait "
        "behind renders; 0 runs image work at the server's own priority.",
    )
    max_output_width: int = Field(default=8192, ge=16, description="Largest width a transform may ask for.")
    max_output_height: int = Field(default=8192, ge=16, description="Largest height a transform may ask for.")
    max_output_pixels: int = Field(default=40_000_000, ge=256, description="Largest output width x height.")
    default_quality: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Quality when the request gives none. Default: each format's own (JPEG 80 with quant table 2, "
        "WebP 78, AVIF 64; imaging/formats.py, measured in docs/transforms.md).",
    )
    thumbnail_size: int = Field(default=256, ge=16, le=2048, description="Box size of `thumb=true` variants.")


class DeliverySettings(BaseModel):
    public_max_age: int = Field(
        default=31_536_000, ge=0, description="Cache-Control max-age (seconds) of public images and variants."
    )
    private_max_age: int = Field(default=0, ge=0, description="Cache-Control max-age (seconds) of private images.")
    avatar_max_age: int = Field(
        default=300,
        ge=0,
        description="Cache-Control max-age (seconds) of avatars: short, since a replaced avatar keeps its URL "
        "(browsers revalidate with the ETag afterwards).",
    )
    metadata_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a process serves an image from its in-memory copy of the image's record. Changes made "
        "through another process are seen within this time (at once when instances share a Redis); 0 turns the cache "
        "off.",
    )
    memory_cache_bytes: int = Field(
        default=64 * MB,
        ge=0,
        description="Memory each process may use to keep hot public images and variants (each up to 512 KiB) for the "
        "warm fast path; 0 turns the fast path off.",
    )
    view_flush_seconds: float = Field(
        default=2.0, gt=0, description="How often buffered view counts are written to the database."
    )


MAX_AUTO_WORKERS = 8


class ServerSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Address `pinhole serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `pinhole serve` listens on.")
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Server processes. Unset: one per CPU this process may use (at most 8) when Redis is configured "
        "(`redis.url`: rate limits, render locks and changes are shared between processes), else 1.",
    )
    loop: Literal["auto", "uvloop", "asyncio"] = Field(
        default="auto",
        description="The event loop of each server process: `auto` is uvloop where it is installed (a dependency "
        "on Linux and macOS), else Python's asyncio (docs/deploy.md, Event loop).",
    )
    memory_trim_seconds: float = Field(
        default=60,
        ge=0,
        description="How often each server process hands freed memory back to the system (glibc's "
        "`malloc_trim`), so an idle server shrinks after a busy spell; 0 turns it off (docs/deploy.md, Memory).",
    )
    public_url: str | None = Field(
        default=None,
        description="External base URL used in links the API returns (e.g. https://img.example.com). "
        "Default: taken from each request.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Addresses (CIDR) of reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed: "
        "they decide the client address (rate limits, sign-in back-off) and whether cookies get `Secure`. "
        'JSON list, e.g. `["10.0.0.0/8"]`; `[]` believes no proxy.',
    )

    settings_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a process reuses its copy of the run-time settings an admin changes (guest uploads, "
        "sign-up; docs/admin.md). A change is seen at once by the process that made it and within this time by the "
        "others; 0 reads them from the database on every use.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value


class AccountSettings(BaseModel):
    guest_uploads: bool = Field(
        default=False,
        description="Let anyone upload without an account (public images owned by nobody). An admin can override it "
        "while the service runs (run-time settings, docs/admin.md).",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=1440, description="Lifetime of a JWT access token.")
    refresh_token_days: int = Field(
        default=30, ge=1, le=365, description="Lifetime of an API session (its rotating refresh tokens)."
    )
    browser_session_days: int = Field(default=14, ge=1, le=365, description="Lifetime of a browser session cookie.")
    password_min_length: int = Field(default=10, ge=8, le=128, description="Shortest password accepted.")
    login_account_threshold: int = Field(
        default=5, ge=1, description="Failed sign-ins to one account before back-off starts (doubling per failure)."
    )
    login_address_threshold: int = Field(
        default=20, ge=1, description="Failed sign-ins from one address (any account) before back-off starts."
    )
    login_max_delay_seconds: int = Field(default=900, ge=1, description="Longest sign-in back-off.")
    password_hash_memory_kib: int = Field(
        default=64 * 1024,
        ge=1024,
        description="argon2id memory per password hash (KiB). The default follows RFC 9106; lower it only on "
        "very small machines.",
    )
    password_hash_time_cost: int = Field(default=3, ge=1, le=20, description="argon2id passes per password hash.")
    reset_link_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        description="How long a password reset link an admin makes stays usable (it works once; docs/admin.md).",
    )


class QuotaSettings(BaseModel):
    """Defaults; a client's own quota (admin API, CLI) overrides them. 0 means unlimited."""

    client_bytes: int = Field(default=0, ge=0, description="Bytes of images one client may store (0: unlimited).")
    client_images: int = Field(default=0, ge=0, description="Images one client may store (0: unlimited).")
    user_bytes: int = Field(
        default=0, ge=0, description="Bytes of images one user (account or external user) may store (0: unlimited)."
    )
    user_images: int = Field(default=0, ge=0, description="Images one user may store (0: unlimited).")


class RateLimitSettings(BaseModel):
    enabled: bool = Field(default=True, description="Apply the rate-limit rules.")
    rules: dict[str, str] = Field(
        default_factory=lambda: {
            "*": "600/minute",
            "v2.auth": "30/minute",
            "v2.images.upload": "120/minute",
            "v2.images.serve": "off",
            "v2.images.shared": "off",
            "userphotos.serve": "off",
            "uploadkey.auth": "30/minute",
            "uploadkey.upload": "120/minute",
            "uploadkey.serve": "off",
            "userimages": "10/minute",
            "slink.auth": "30/minute",
            "slink.upload": "120/minute",
            "slink.serve": "off",
        },
        description="Limits per caller (API key, user, or address for anonymous callers) by scope: an API (`v2`), "
        "a route group (`v2.auth`) or a route (`v2.images.upload`); the most specific scope applies, `*` is the "
        "fallback, `off` exempts. Values like `10/minute`, `100/hour`, `5/10s`. JSON object; it replaces the "
        "defaults as a whole.",
    )

    @field_validator("rules")
    @classmethod
    def _parse(cls, value: dict[str, str]) -> dict[str, str]:
        from pinhole.security.ratelimit import RateLimitRules

        RateLimitRules.parse(value)  # ValueError names the scope
        return value


class RedisSettings(BaseModel):
    """Shared state between instances (see docs/deploy.md, "Redis"); off when `url` is unset."""

    url: SecretStr | None = Field(
        default=None,
        description="Redis URL (`redis://[:password@]host:6379/0`, `rediss://` for TLS). When set, instances share "
        "rate limits, sign-in back-off, view counts, variant render locks and image-record invalidation through "
        "it; unset: everything stays in each process.",
    )
    key_prefix: str = Field(
        default="pinhole:", min_length=1, description="Prefix of every key pinhole writes (to share a Redis)."
    )
    connect_timeout_seconds: float = Field(default=1.0, gt=0, description="Time limit to open a connection.")
    operation_timeout_seconds: float = Field(default=0.5, gt=0, description="Time limit of each command.")
    cooldown_seconds: float = Field(
        default=10.0,
        gt=0,
        description="After Redis fails, how long each process uses its in-process state before trying Redis again.",
    )
    max_connections: int = Field(default=64, ge=1, le=10_000, description="Connections kept open per process.")
    lock_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Lease of a variant render lock; the holder renews it while rendering, so it only runs out when "
        "the holder died, and then another instance renders.",
    )
    lock_wait_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest an instance waits for another one's render of the same variant before rendering itself.",
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class SigningSettings(BaseModel):
    mode: Literal["off", "anonymous", "all"] = Field(
        default="off",
        description="Which transform requests must carry a URL signature: none, anonymous callers' only, or "
        "everyone's except the image's owner and share-token holders.",
    )
    keys: list[SecretStr] = Field(
        default_factory=list,
        description="Signing keys as `id:secret` (secret at least 32 bytes), JSON list. The first signs, all "
        "verify: put a new key first to rotate. Default: one key `k1` derived from the server secret.",
    )
    max_expiry_days: int = Field(
        default=365,
        ge=1,
        le=36_500,
        description="Longest validity a signed URL may be given through the API, and what it gets when the request "
        "names none (see docs/security.md).",
    )

    @field_validator("keys")
    @classmethod
    def _pairs(cls, value: list[SecretStr]) -> list[SecretStr]:
        from pinhole.security.signing import UrlSigner

        if value:
            UrlSigner(split_signing_keys(value))  # ValueError names the bad key id
        return value


def split_signing_keys(keys: list[SecretStr]) -> list[tuple[str, str]]:
    pairs = []
    for item in keys:
        key_id, colon, secret = item.get_secret_value().partition(":")
        if not colon:
            raise ValueError("each signing key must look like `id:secret`")
        pairs.append((key_id, secret))
    return pairs


class VariantCacheSettings(BaseModel):
    max_bytes: int = Field(
        default=10 * 1024 * MB,
        ge=0,
        description="Budget of rendered variants in the blob store; past it the least recently used are evicted "
        "(rendered again when next asked for). 0: unlimited, and anyone allowed to transform can fill the disk.",
    )
    low_water_percent: int = Field(
        default=90, ge=1, le=100, description="A prune evicts down to this share of the budget, leaving headroom."
    )
    prune_interval_seconds: float = Field(
        default=600,
        ge=0,
        description="How often each server process prunes to the budget; 0: never (run `pinhole cache prune`).",
    )

    @property
    def target_bytes(self) -> int:
        return self.max_bytes * self.low_water_percent // 100


def _mount_prefix(value: str) -> str:
    value = value.rstrip("/")
    if value and not value.startswith("/"):
        raise ValueError("must start with '/' (or be empty for the server root)")
    return value


class WebSettings(BaseModel):
    """The browser app (`pinhole.web`): server-rendered pages over the same services as the APIs."""

    enabled: bool = Field(
        default=True,
        description="Serve the web app (sign-in, upload, my images, account pages) at the server root. It uploads "
        "and shows images through the v2 API, so it is left out when `PINHOLE_DIALECTS__V2__ENABLED` is false.",
    )
    signup: bool = Field(
        default=False,
        description="Let anyone create an account on the web app's sign-up page. An admin can override it while the "
        "service runs (run-time settings, docs/admin.md).",
    )
    resumable_threshold_bytes: int = Field(
        default=4 * MB,
        ge=0,
        description="The upload page sends files of this size and more as resumable (tus) uploads, with pause and "
        "resume, in pieces of `resumable_chunk_bytes`; smaller files go in one request.",
    )
    resumable_chunk_bytes: int = Field(
        default=2 * MB, ge=1024, description="Bytes per request of the upload page's resumable uploads."
    )
    trash_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="Days an image deleted in the web app stays in the trash, restorable, before the store sweep "
        "removes it for good (its files go then). Trashed images are gone from every API at once and count against "
        "no quota. 0: web deletes are final at once (no undo). API deletes are always final (docs/web.md).",
    )


class LogSettings(BaseModel):
    """Log lines (docs/observability.md): every warning and error carries the request id."""

    format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="`json`: one JSON object per line (for a log collector); `text`: human-readable lines; `auto`: "
        "text on a terminal, JSON otherwise.",
    )
    level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Lowest level logged.")
    access: bool = Field(
        default=False,
        description="Log one line per request (method, path, dialect, route, status, duration, bytes, principal); "
        "off by default: it about doubles the CPU a warm hit costs in Python (docs/observability.md).",
    )


class MetricsSettings(BaseModel):
    """Prometheus metrics (docs/observability.md), outside every API like the probes."""

    enabled: bool = Field(default=True, description="Serve Prometheus metrics at `GET /metrics`.")
    token: SecretStr | None = Field(
        default=None,
        description="When set, `/metrics` answers only requests with `Authorization: Bearer <token>` (else 401).",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve the metrics on this port of `server.host` instead of the API port (`pinhole serve` runs "
        "a small server in its main process for it; `/metrics` is then left off the API port).",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry traces (needs the `otel` extra: `pip install pinhole[otel]`); off by default."""

    enabled: bool = Field(
        default=False,
        description="Make spans even without an endpoint (log lines then carry trace ids); on when `otlp_endpoint` "
        "is set.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint traces are sent to (e.g. `http://otel-collector:4318/v1/traces`); setting it "
        "turns tracing on.",
    )
    service_name: str = Field(default="pinhole", min_length=1, description="`service.name` of the spans.")
    sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="Share of requests traced (parent-based: a traced caller stays traced)."
    )


class DialectMount(BaseModel):
    """Where one API is served. Its documented paths are appended to `prefix` (empty = the server root)."""

    enabled: bool = Field(default=True, description="Serve this API.")
    prefix: str = Field(default="", description="Path prefix the API's documented paths are mounted under.")

    _prefix_shape = field_validator("prefix")(_mount_prefix)


class V2Mount(DialectMount):
    prefix: str = Field(
        default="/v2",
        description="Path prefix of the native v2 API (its document's `API_PREFIX`: the routes are `/images`, ... "
        "under it).",
    )


class UserphotosMount(DialectMount):
    max_file_bytes: int = Field(
        default=10 * MB,
        ge=1024,
        description="Largest file `POST /v1/upload` of the userphotos API accepts (its document's 10 MB; a client's "
        "own and the server-wide limits still apply when lower).",
    )


class UploadkeyMount(DialectMount):
    prefix: str = Field(
        default="/uploadkey",
        description="Path prefix of the uploadkey API (its `/api/upload` collides with slink's at the server root).",
    )


class UserimagesMount(DialectMount):
    require_key: bool = Field(
        default=True,
        description="Require the client's API key (`X-API-Key` or `Authorization: Bearer`) on the userimages API. "
        "With false, requests without a key act for `default_client`'s users.",
    )
    default_client: str | None = Field(
        default=None,
        description="Id of the client whose external users keyless userimages requests act for; required when "
        "`require_key` is false.",
    )

    @model_validator(mode="after")
    def _keyless_needs_a_client(self) -> UserimagesMount:
        if not self.require_key and not (self.default_client or "").strip():
            raise ValueError("dialects.userimages.require_key=false needs dialects.userimages.default_client")
        return self


class SlinkMount(DialectMount):
    max_file_bytes: int = Field(
        default=10 * MB,
        ge=1024,
        description="Largest file the slink API's uploads accept; above it the answer is its 422 validation error "
        "(a client's own and the server-wide limits still apply when lower).",
    )


class ProxyDialectMount(DialectMount):
    """A transform-proxy URL language (imgproxy, thumbor, imgix): off by default, at its own prefix, its
    instance-wide secrets acting for one client (`client_id`)."""

    enabled: bool = Field(default=False, description="Serve this URL language.")
    client_id: str | None = Field(
        default=None,
        description="Id of the client these instance-wide keys act for: only its images are served (public ones "
        "without a valid signature only where signing is off for the dialect). Unset: public images of any client.",
    )


class ImgproxyMount(ProxyDialectMount):
    prefix: str = Field(default="/imgproxy", description="Path prefix of imgproxy URLs (`/<signature>/<options>/...`).")
    key: list[str] = Field(
        default=[],
        description="imgproxy `IMGPROXY_KEY`s, hex; several (with as many salts, pairwise) for rotation. "
        "JSON list. Empty: signing off, `insecure` URLs are served.",
    )
    salt: list[str] = Field(default=[], description="imgproxy `IMGPROXY_SALT`s, hex, one per key. JSON list.")
    auto_webp: bool = Field(
        default=False, description="imgproxy's `IMGPROXY_AUTO_WEBP`: WebP when no format is asked and Accept takes it."
    )
    auto_avif: bool = Field(
        default=False, description="imgproxy's `IMGPROXY_AUTO_AVIF`: AVIF (before WebP) when Accept takes it."
    )
    fallback_image: str | None = Field(
        default=None,
        description="imgproxy's `IMGPROXY_FALLBACK_IMAGE_PATH`: the v2 id of a hosted image served (with the URL's "
        "options) when the source image is not there. Unset: 404.",
    )
    fallback_image_http_code: int = Field(
        default=200, ge=200, le=599, description="imgproxy's `IMGPROXY_FALLBACK_IMAGE_HTTP_CODE`: its status."
    )

    @model_validator(mode="after")
    def _pairs(self) -> ImgproxyMount:
        if len(self.key) != len(self.salt):
            raise ValueError("dialects.imgproxy.key and dialects.imgproxy.salt need as many entries each")
        for value in [*self.key, *self.salt]:
            try:
                bytes.fromhex(value)
            except ValueError:
                raise ValueError("dialects.imgproxy.key and .salt are hex strings") from None
        return self


class ThumborMount(ProxyDialectMount):
    prefix: str = Field(default="/thumbor", description="Path prefix of thumbor URLs (`/<signature|unsafe>/...`).")
    security_key: SecretStr | None = Field(
        default=None, description="thumbor's `SECURITY_KEY`: the HMAC-SHA1 key of its URL signatures."
    )
    allow_unsafe: bool = Field(default=False, description="Serve `/unsafe/...` URLs (thumbor's `ALLOW_UNSAFE_URL`).")


class ImgixMount(ProxyDialectMount):
    prefix: str = Field(default="/imgix", description="Path prefix of imgix URLs (`/<image id>?w=...`).")
    origin: str | None = Field(
        default=None,
        description="imgix Web Folder: a base URL (under `proxy.allowed_sources`) that URL paths are taken under, "
        "`/photos/a.jpg` fetching `<origin>/photos/a.jpg`. Unset: a path names a hosted image's id, or a whole "
        "percent-encoded URL (imgix's Web Proxy form).",
    )
    token: SecretStr | None = Field(
        default=None,
        description="The imgix source's secure URL token (the `s` MD5 signature's secret). Unset: "
        "unsigned URLs are served.",
    )
    default_image: str | None = Field(
        default=None,
        description="The imgix source's Default Image: the v2 id of a hosted image served (with the URL's "
        "parameters) when the requested one is not there. Unset: 404.",
    )


class CloudinaryMount(ProxyDialectMount):
    prefix: str = Field(
        default="/cloudinary", description="Path prefix of Cloudinary delivery URLs (`/<cloud>/image/upload/...`)."
    )
    cloud_name: str = Field(default="pinhole", min_length=1, description="The cloud name the URLs carry.")
    api_key: str | None = Field(default=None, description="The Cloudinary API key the upload API takes.")
    api_secret: SecretStr | None = Field(
        default=None, description="The Cloudinary API secret: checks `s--...--` URL signatures."
    )


class DialectsSettings(BaseModel):
    """The APIs pinhole speaks (`pinhole.dialects`), one mount each; start-up refuses mounts whose routes collide,
    naming both. Each API adds its field here, named as its dialect."""

    v2: V2Mount = V2Mount()
    userphotos: UserphotosMount = UserphotosMount()
    uploadkey: UploadkeyMount = UploadkeyMount()
    userimages: UserimagesMount = UserimagesMount()
    slink: SlinkMount = SlinkMount()
    thumbor: ThumborMount = ThumborMount()
    imgproxy: ImgproxyMount = ImgproxyMount()
    imgix: ImgixMount = ImgixMount()
    cloudinary: CloudinaryMount = CloudinaryMount()


class TransformSettings(BaseModel):
    """Transform options beyond sizes (docs/transforms.md): format negotiation, presets, render budget, watermarks
    (default qualities are per format in imaging/formats.py)."""

    negotiate: bool = Field(
        default=True,
        description="Choose the output format from the Accept header when a transform names none (or format=auto); "
        "answers then carry Vary: Accept.",
    )
    negotiate_formats: list[Literal["avif", "webp"]] = Field(
        default=["avif", "webp"],
        description="Formats negotiation may choose, best first; otherwise the original's format is kept (JPEG or "
        "PNG for formats browsers cannot show).",
    )
    avif_min_pixels: int = Field(
        default=64 * 64,
        ge=0,
        description="Outputs with fewer pixels are not negotiated to AVIF (its container costs more than it saves).",
    )

    presets: dict[str, str] = Field(
        default={},
        description='Named option sets, name = v2 query (e.g. card = "w=400&h=300&fit=cover&gravity=smart"); '
        "requests use preset=card. A TOML table [transforms.presets] or JSON in the environment.",
    )
    presets_only: bool = Field(
        default=False,
        description="Callers who are not an image's owner may transform it only with preset=<name> alone.",
    )
    eager_presets: list[str] = Field(
        default=[],
        description="Presets rendered in the background right after each upload (for every negotiable format), "
        "so the first view is warm.",
    )

    stranger_renders_per_minute: int = Field(
        default=60,
        ge=0,
        description="Cold renders (variants never made before) and remote-origin fetches per address and minute for "
        "callers who are not the image's owner; past it 429 + Retry-After. 0 turns the budget off.",
    )
    width_step: int = Field(
        default=0,
        ge=0,
        le=512,
        description="Round requested widths and heights up to a multiple of this (e.g. 16), so fewer distinct "
        "variants can be asked for; 0 keeps them as asked.",
    )

    watermark_file: Path | None = Field(
        default=None,
        description="A picture (PNG with transparency works best) requests may draw over images with wm=site.",
    )

    @field_validator("presets")
    @classmethod
    def _presets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, query in value.items():
            if not PRESET_NAME.fullmatch(name):
                raise ValueError(f"preset name {name!r}: use 1-32 of a-z, 0-9, - and _")
            try:
                preset_query(query)
            except ValueError as error:
                raise ValueError(f"preset {name!r}: {error}") from error
        return value

    @model_validator(mode="after")
    def _eager_presets_exist(self) -> TransformSettings:
        missing = sorted(set(self.eager_presets) - set(self.presets))
        if missing:
            raise ValueError(f"eager_presets names presets that do not exist: {', '.join(missing)}")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(default=Path("./data"), description="Data folder: SQLite file, blobs, secret, temp files.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Secret that signs tokens. When unset one is generated on first run and kept in the data folder; "
        "set it to share one secret between instances.",
    )
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    uploads: UploadSettings = UploadSettings()
    fetch: FetchSettings = FetchSettings()
    proxy: ProxySettings = ProxySettings()
    imaging: ImagingSettings = ImagingSettings()
    delivery: DeliverySettings = DeliverySettings()
    server: ServerSettings = ServerSettings()
    dialects: DialectsSettings = DialectsSettings()
    accounts: AccountSettings = AccountSettings()
    quotas: QuotaSettings = QuotaSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    redis: RedisSettings = RedisSettings()
    signing: SigningSettings = SigningSettings()
    variant_cache: VariantCacheSettings = VariantCacheSettings()
    web: WebSettings = WebSettings()
    transforms: TransformSettings = TransformSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()
    tracing: TracingSettings = TracingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def v2(self) -> V2Mount:
        """The native API's mount (`dialects.v2`)."""
        return self.dialects.v2

    # Derived locations: one place decides where things live in the data folder.
    @property
    def database_url(self) -> str:
        return normalize_database_url(self.database.url or f"sqlite:///{self.data_dir.resolve() / 'pinhole.db'}")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def blob_root(self) -> Path:
        return self.storage.local_root or self.data_dir / "blobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def server_workers(self) -> int:
        """`server.workers`, or the default that suits this machine (one per usable CPU, at most 8, with Redis)."""
        if self.server.workers is not None:
            return self.server.workers
        if self.redis.url is None:
            return 1
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(usable, MAX_AUTO_WORKERS))

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.database.auto_migrate is None else self.database.auto_migrate


class SettingsError(Exception):
    """Start-up refused: the message names each offending environment variable."""


def normalize_database_url(url: str) -> str:
    """Give plain URLs the async driver pinhole uses."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and TOML file), with errors that name the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"{env_name(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None


SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


def resolve_secret(settings: Settings) -> str:
    """The signing secret: `PINHOLE_SECRET_KEY`, else the one kept in the data folder, made on first run."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 32:
            raise SettingsError("PINHOLE_SECRET_KEY: must be at least 32 characters")
        return value
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temp, path)  # atomic and refuses to overwrite: when workers race, the first one wins
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return path.read_text().strip()


def iter_setting_names(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> list[str]:
    """Every environment variable a setting can be read from (used by the docs test and `pinhole doctor`)."""
    names: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(iter_setting_names(annotation, f"{prefix}{name.upper()}__"))
        else:
            names.append(f"{prefix}{name.upper()}")
    return names
