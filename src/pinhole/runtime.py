"""The process's long-lived parts, built once by the composition root and handed to routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.fetch import Fetcher
from pinhole.imaging.options import OutputLimits
from pinhole.observability.telemetry import Telemetry
from pinhole.security.backoff import LoginBackoff
from pinhole.security.ratelimit import RateLimiter
from pinhole.security.signing import SigningMode, UrlSigner
from pinhole.security.tokens import AccessTokens
from pinhole.services.app_settings import AppSettings
from pinhole.services.images import RecentImages
from pinhole.services.ingest import IngestPolicy
from pinhole.services.memory_cache import MemoryCache
from pinhole.services.preset_store import PresetStore
from pinhole.services.proxy_keys import KeyAbsence
from pinhole.services.pruner import VariantPruner
from pinhole.services.remote_origins import RemoteOrigins
from pinhole.services.resumable import ResumableUploads
from pinhole.services.store_sweep import StoreSweeper
from pinhole.services.usage import UsageBuffer
from pinhole.services.users import Accounts
from pinhole.services.variants import VariantService
from pinhole.settings import Settings
from pinhole.shared.link import RedisLink
from pinhole.storage.base import BlobStore


@dataclass
class Runtime:
    settings: Settings
    secret: str
    db: Database
    store: BlobStore
    pool: WorkerPool
    usage: UsageBuffer
    variants: VariantService
    ingest_policy: IngestPolicy
    output_limits: OutputLimits
    recent: RecentImages
    hot: MemoryCache
    pruner: VariantPruner
    accounts: Accounts
    access_tokens: AccessTokens
    login_backoff: LoginBackoff
    limiter: RateLimiter | None  # None when rate limits are off
    signer: UrlSigner
    signing_mode: SigningMode
    fetcher: Fetcher  # fetches URLs others chose (uploads from a URL)
    origins: RemoteOrigins  # remote originals of the proxy URL languages (proxy.allowed_sources)
    resumable: ResumableUploads  # tus uploads (`/v2/uploads`) and their expiry sweep
    app_settings: AppSettings  # run-time settings an admin changes; read guest uploads and sign-up here
    presets: PresetStore  # transform presets: the settings' and those an admin adds (docs/transforms.md)
    telemetry: Telemetry  # metrics and traces (pinhole.observability)
    redis: RedisLink | None = None  # None when Redis is off (PINHOLE_REDIS__URL unset)
    sweeper: StoreSweeper | None = None  # None when the store sweep is off (storage.sweep_interval_seconds=0)
    proxy_key_absence: KeyAbsence = field(default_factory=KeyAbsence)  # clients without own proxy keys (briefly)
