"""The composition root: `create_app(settings)` wires every part in order; nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import functools
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from pinhole import __version__, allocator
from pinhole.api import health, openapi_document
from pinhole.api.errors import http_exception_handler
from pinhole.api.front import PinholeApp
from pinhole.api.mounting import (
    Dialect,
    Mounted,
    check_collisions,
    enabled_mounts,
    error_prefixes,
    mount_dialects,
    openapi_tags,
    route_infos,
)
from pinhole.api.services import build_services
from pinhole.api.transform_query import TransformDefaults, check_preset_query
from pinhole.concurrency.pool import WorkerPool
from pinhole.concurrency.singleflight import SingleFlight
from pinhole.db.engine import Database, PoolOptions
from pinhole.dialects import DIALECTS
from pinhole.fetch import Fetcher, FetchPolicy
from pinhole.imaging.inspect import ImageLimits
from pinhole.imaging.options import OutputLimits
from pinhole.imaging.vips import configure_libvips
from pinhole.observability.endpoint import metrics_route
from pinhole.observability.lifecycle import observe_database, run_sampler, stop_telemetry
from pinhole.observability.logging import configure_logging
from pinhole.observability.middleware import ObservabilityMiddleware
from pinhole.observability.storage import observed_store
from pinhole.observability.telemetry import Telemetry
from pinhole.proxies.allowlist import Allowlist
from pinhole.runtime import Runtime
from pinhole.security.backoff import BackoffPolicy, LoginBackoff, MemoryAttemptStore
from pinhole.security.passwords import PARAMETERS, PasswordPolicy, Passwords
from pinhole.security.ratelimit import MemoryRateLimitStore, RateLimit, RateLimiter, RateLimitRules, RateLimitStore
from pinhole.security.signing import SigningMode, UrlSigner, derive_key
from pinhole.security.tokens import AccessTokens
from pinhole.services.app_settings import AppSettings
from pinhole.services.client_defaults import ClientDefaults
from pinhole.services.images import RecentImages
from pinhole.services.ingest import IngestPolicy
from pinhole.services.memory_cache import MemoryCache
from pinhole.services.preset_store import PresetStore
from pinhole.services.pruner import VariantPruner
from pinhole.services.quotas import QuotaDefaults
from pinhole.services.remote_origins import RemoteOrigins, remote_policy
from pinhole.services.render_budget import RenderBudget
from pinhole.services.resumable import ResumableUploads
from pinhole.services.store_sweep import StoreSweeper
from pinhole.services.usage import UsageBuffer
from pinhole.services.users import Accounts
from pinhole.services.variant_cache import forget_blobs
from pinhole.services.variant_options import SiteMark
from pinhole.services.variants import VariantService
from pinhole.settings import Settings, load_settings, resolve_secret, split_signing_keys
from pinhole.shared.counters import RedisAttemptStore, RedisRateLimitStore
from pinhole.shared.link import RedisLink
from pinhole.shared.locks import SharedFlight
from pinhole.shared.versions import ImageVersions
from pinhole.storage.factory import create_blob_store
from pinhole.web import build_router as build_web_router

log = logging.getLogger(__name__)


def build_pool_options(settings: Settings) -> PoolOptions:
    database = settings.database
    return PoolOptions(
        size=database.pool_size,
        max_overflow=database.max_overflow,
        timeout_seconds=database.pool_timeout_seconds,
        recycle_seconds=database.pool_recycle_seconds,
        statement_timeout_seconds=database.statement_timeout_seconds,
    )


def build_accounts(settings: Settings, db: Database) -> Accounts:
    parameters = dataclasses.replace(
        PARAMETERS,
        memory_cost=settings.accounts.password_hash_memory_kib,
        time_cost=settings.accounts.password_hash_time_cost,
    )
    return Accounts(
        db=db, passwords=Passwords(parameters), policy=PasswordPolicy(min_length=settings.accounts.password_min_length)
    )


def build_login_backoff(settings: Settings, link: RedisLink | None) -> LoginBackoff:
    max_delay = float(settings.accounts.login_max_delay_seconds)
    return LoginBackoff(
        MemoryAttemptStore() if link is None else RedisAttemptStore(link),
        account_policy=BackoffPolicy(threshold=settings.accounts.login_account_threshold, max_delay=max_delay),
        address_policy=BackoffPolicy(threshold=settings.accounts.login_address_threshold, max_delay=max_delay),
        forget_after=max(24 * 3600.0, max_delay),
    )


def build_limiter(settings: Settings, link: RedisLink | None) -> RateLimiter | None:
    if not settings.rate_limits.enabled:
        return None
    store: RateLimitStore = MemoryRateLimitStore() if link is None else RedisRateLimitStore(link)
    return RateLimiter(store, RateLimitRules.parse(settings.rate_limits.rules))


def build_render_budget(settings: Settings, link: RedisLink | None) -> RenderBudget | None:
    per_minute = settings.transforms.stranger_renders_per_minute
    if per_minute == 0:
        return None
    store: RateLimitStore = MemoryRateLimitStore() if link is None else RedisRateLimitStore(link)
    return RenderBudget(store=store, limit=RateLimit(limit=per_minute, window_seconds=60))


def build_shared_flight(settings: Settings, link: RedisLink | None) -> SharedFlight | None:
    if link is None:
        return None
    return SharedFlight(link, lease=settings.redis.lock_lease_seconds, wait=settings.redis.lock_wait_seconds)


def build_recent_images(settings: Settings, link: RedisLink | None) -> RecentImages:
    ttl = settings.delivery.metadata_cache_seconds
    return RecentImages(ttl=ttl, versions=None if link is None else ImageVersions(link, ttl=ttl))


def build_quota_defaults(settings: Settings) -> QuotaDefaults:
    return QuotaDefaults(
        max_file_bytes=settings.uploads.max_file_bytes,
        client_bytes=settings.quotas.client_bytes,
        client_images=settings.quotas.client_images,
        user_bytes=settings.quotas.user_bytes,
        user_images=settings.quotas.user_images,
    )


def build_signer(settings: Settings, secret: str) -> UrlSigner:
    keys: list[tuple[str, str | bytes]] = [*split_signing_keys(settings.signing.keys)]
    return UrlSigner(keys or [("k1", derive_key(secret, "url-signing-default-key"))])


def build_output_limits(settings: Settings) -> OutputLimits:
    return OutputLimits(
        max_width=settings.imaging.max_output_width,
        max_height=settings.imaging.max_output_height,
        max_pixels=settings.imaging.max_output_pixels,
        step=settings.transforms.width_step,
    )


def build_pruner(settings: Settings, *, variants: VariantService, hot: MemoryCache) -> VariantPruner:
    cache = settings.variant_cache
    return VariantPruner(
        db=variants.db,
        store=variants.store,
        usage=variants.usage,
        variants=variants,
        hot=hot,
        max_bytes=cache.max_bytes,
        target_bytes=cache.target_bytes,
        interval=cache.prune_interval_seconds,
    )


def build_sweeper(
    settings: Settings, *, db: Database, variants: VariantService, hot: MemoryCache
) -> StoreSweeper | None:
    storage = settings.storage
    if storage.sweep_interval_seconds <= 0:
        return None
    return StoreSweeper(
        db=db,
        store=variants.store,
        tmp_dir=settings.tmp_dir,
        interval=storage.sweep_interval_seconds,
        grace_seconds=storage.sweep_grace_seconds,
        retention_days=storage.preserved_retention_days,
        forget=lambda keys: forget_blobs(variants=variants, hot=hot, keys=keys),
    )


def build_fetcher(settings: Settings) -> Fetcher:
    fetch = settings.fetch
    if fetch.allow_private_networks:
        log.warning("URL fetches may reach loopback and private addresses (PINHOLE_FETCH__ALLOW_PRIVATE_NETWORKS)")
    return Fetcher(
        FetchPolicy(
            allow_private=fetch.allow_private_networks,
            timeout=fetch.timeout_seconds,
            max_redirects=fetch.max_redirects,
            user_agent=fetch.user_agent,
        )
    )


def build_presets(settings: Settings, db: Database, limits: OutputLimits) -> PresetStore:
    """The presets in force; a stored preset's query is checked by the transform parser every API uses."""
    transforms = settings.transforms
    defaults = TransformDefaults(thumbnail_size=settings.imaging.thumbnail_size, limits=limits)
    return PresetStore(
        db=db,
        configured=transforms.presets,
        configured_eager=transforms.eager_presets,
        check=functools.partial(check_preset_query, defaults=defaults),
        ttl=settings.server.settings_cache_seconds,
    )


def build_runtime(settings: Settings) -> Runtime:
    secret = resolve_secret(settings)
    telemetry = Telemetry.from_settings(settings)
    db = Database(
        settings.database_url,
        pool=build_pool_options(settings),
        echo=settings.database.echo,
        totals_ttl=settings.database.count_cache_seconds,
        on_checkout=telemetry.pool_checkout,
    )
    observe_database(db, telemetry)
    store = observed_store(
        create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3),
        backend=settings.storage.backend,
        tally=telemetry.metrics.tally,
    )
    imaging = settings.imaging
    pool = WorkerPool(threads=imaging.threads, queue_size=imaging.queue_size, nice=imaging.nice)
    link = RedisLink.from_settings(settings.redis)  # None: Redis is off, every part keeps its state in process
    usage = UsageBuffer(db, link)
    ingest_policy = IngestPolicy(
        limits=ImageLimits(max_pixels=settings.uploads.max_pixels, max_frames=settings.uploads.max_frames),
        strip_metadata=settings.uploads.strip_metadata,
        work_dir=settings.tmp_dir,
        quotas=build_quota_defaults(settings),
        placeholders=settings.uploads.placeholders,
        dialect_extra_formats=frozenset(settings.uploads.dialect_extra_formats),
    )
    output_limits = build_output_limits(settings)
    variants = VariantService(
        db=db,
        store=store,
        pool=pool,
        usage=usage,
        default_quality=settings.imaging.default_quality,
        limits=output_limits,
        flights=SingleFlight(),
        shared=build_shared_flight(settings, link),
        budget=build_render_budget(settings, link),
        site_mark=SiteMark(settings.transforms.watermark_file) if settings.transforms.watermark_file else None,
        clients=ClientDefaults(db=db, ttl=settings.server.settings_cache_seconds),
    )
    hot = MemoryCache(budget=settings.delivery.memory_cache_bytes)
    fetcher = build_fetcher(settings)
    origins = build_origins(settings, variants=variants, fetcher=fetcher, policy=ingest_policy)
    return Runtime(
        settings=settings,
        secret=secret,
        db=db,
        store=store,
        pool=pool,
        usage=usage,
        variants=variants,
        ingest_policy=ingest_policy,
        output_limits=output_limits,
        recent=build_recent_images(settings, link),
        hot=hot,
        pruner=build_pruner(settings, variants=variants, hot=hot),
        accounts=build_accounts(settings, db),
        access_tokens=AccessTokens(secret, lifetime_seconds=settings.accounts.access_token_minutes * 60),
        login_backoff=build_login_backoff(settings, link),
        limiter=build_limiter(settings, link),
        signer=build_signer(settings, secret),
        signing_mode=SigningMode(settings.signing.mode),
        fetcher=fetcher,
        origins=origins,
        resumable=ResumableUploads(
            db=db,
            store=store,
            pool=pool,
            policy=ingest_policy,
            tmp_dir=settings.tmp_dir,
            expiry=datetime.timedelta(seconds=settings.uploads.resumable_expiry_seconds),
            interval=settings.uploads.resumable_sweep_seconds,
        ),
        app_settings=AppSettings(db=db, settings=settings, ttl=settings.server.settings_cache_seconds),
        presets=build_presets(settings, db, output_limits),
        redis=link,
        telemetry=telemetry,
        sweeper=build_sweeper(settings, db=db, variants=variants, hot=hot),
    )


def build_origins(
    settings: Settings, *, variants: VariantService, fetcher: Fetcher, policy: IngestPolicy
) -> RemoteOrigins:
    proxy = settings.proxy
    return RemoteOrigins(
        db=variants.db,
        store=variants.store,
        pool=variants.pool,
        fetcher=fetcher,
        policy=remote_policy(policy),
        allowlist=Allowlist(proxy.allowed_sources),
        ttl=proxy.origin_ttl_seconds,
        max_bytes=proxy.max_origin_bytes,
        tmp_dir=settings.tmp_dir,
        shared=variants.shared,
    )


def _start_trimmer(interval: float) -> asyncio.Task[None] | None:
    if interval <= 0 or not allocator.can_trim():
        return None

    async def trim_periodically() -> None:
        while True:
            await asyncio.sleep(interval)
            await asyncio.to_thread(allocator.trim)

    return asyncio.create_task(trim_periodically())


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    runtime.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    configure_libvips()
    flusher = asyncio.create_task(runtime.usage.run_periodically(runtime.settings.delivery.view_flush_seconds))
    pruner = asyncio.create_task(runtime.pruner.run()) if runtime.pruner.enabled else None
    resumable = asyncio.create_task(runtime.resumable.run()) if runtime.resumable.interval > 0 else None
    sampler = asyncio.create_task(run_sampler(runtime))
    sweeper = asyncio.create_task(runtime.sweeper.run()) if runtime.sweeper is not None else None
    await runtime.presets.load()  # the stored presets, before the first request
    presets = asyncio.create_task(runtime.presets.run())
    trimmer = _start_trimmer(runtime.settings.server.memory_trim_seconds)
    try:
        yield
    finally:
        await runtime.variants.drain()
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        if trimmer is not None:
            trimmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trimmer
        if runtime.sweeper is not None and sweeper is not None:
            runtime.sweeper.stop()
            await sweeper
        runtime.pruner.stop()
        runtime.resumable.stop()
        runtime.presets.stop()
        await presets
        if pruner is not None:
            await pruner
        if resumable is not None:
            await resumable
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await runtime.usage.flush()
        await runtime.store.aclose()
        await runtime.db.dispose()
        if runtime.redis is not None:
            await runtime.redis.aclose()
        stop_telemetry(runtime)


@dataclasses.dataclass(frozen=True)
class RouteTable:
    routes: tuple[BaseRoute, ...]
    mounted: tuple[Mounted, ...]


@functools.lru_cache(maxsize=32)
def build_routes(web: bool, mounts: tuple[tuple[Dialect, str], ...]) -> RouteTable:
    """Every route the settings ask for, checked for collisions between the APIs.

    Routes are a pure function of these arguments (no route holds the runtime: endpoints find it on
    `request.app`), and building them is most of start-up: FastAPI analyses each of ~200 endpoints' signatures
    twice (router, then include). So equal routing settings share one built table per process; an app only
    appends the table's routes. That makes an app ~1 s cheaper for every test and every CLI command that builds one.
    """
    router = APIRouter()
    router.include_router(health.router)
    if web:
        router.include_router(build_web_router(), include_in_schema=False)
    mounted = mount_dialects(router, mounts)
    return RouteTable(routes=tuple(router.routes), mounted=tuple(mounted))


def create_app(settings: Settings | None = None) -> PinholeApp:
    settings = settings or load_settings()
    app = PinholeApp(
        title="pinhole",
        version=__version__,
        summary="Self-hosted image hosting and delivery.",
        lifespan=_lifespan,
        openapi_tags=openapi_tags(DIALECTS),
        # pinhole's own metrics and spans (ObservabilityMiddleware, its own TracerProvider) are the app's telemetry.
        # FastAPI's OpenTelemetry bridge would only add duplicate spans when something sets global providers, and
        # it asks for them on every request (three provider look-ups reading os.environ: ~20% of a warm hit's CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    openapi_document.install(app)
    app.state.runtime = runtime = build_runtime(settings)
    app.state.services = build_services(runtime)
    mounts = enabled_mounts(settings, DIALECTS)
    for dialect, prefix in mounts:
        if dialect.fast_path is not None:
            dialect.fast_path(app, runtime, prefix)
    # outermost, in front of FastAPI's own layers with the fast paths (api/front.py)
    app.add_front_middleware(ObservabilityMiddleware, telemetry=runtime.telemetry, settings=settings)
    if settings.metrics.enabled and settings.metrics.port is None:
        app.router.routes.append(metrics_route())
    web = settings.web.enabled and settings.v2.enabled  # the pages upload and show images through the v2 API
    if settings.web.enabled and not web:
        log.warning("the web app is off: it needs the v2 API (PINHOLE_DIALECTS__V2__ENABLED)")
    table = build_routes(web, mounts)
    # The app's own routes (/docs, /openapi.json) must not collide with the table's either.
    check_collisions(
        [route_infos("pinhole", app.router.routes)]
        + [route_infos(item.dialect.name, item.router.routes) for item in table.mounted]
    )
    app.router.routes.extend(table.routes)
    app.add_exception_handler(HTTPException, http_exception_handler(error_prefixes(table.mounted)))
    return app


def factory() -> FastAPI:
    """Entry point for the server process (`pinhole serve` points granian here)."""
    settings = load_settings()
    configure_logging(settings.log)
    app = create_app(settings)
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, routes, models, settings: ~300k objects) out of the garbage collector's
    reach. They live as long as the process, yet every full collection walked them all: 0.3-0.7 s with the event
    loop stopped (a worker's first full collections, measured under load). After the freeze a full collection
    walks what requests made since (2-13 ms in process, ~100 ms once the first requests' lazy set-up is in)."""
    gc.collect()
    gc.freeze()
