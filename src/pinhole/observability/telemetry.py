"""The app's telemetry: its metrics and tracer, what services report to them, and the sampler of gauges.

Services report in two ways, both cheap: a few plain counters they already keep (`VariantService.renders`,
`MemoryCache.hits`, `RedisLink.outages`, ...) are read by `sample()` once a second; events that need labels or a
duration are reported through the functions at the bottom, which find the request's `Telemetry` in its context.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyvips

from pinhole import __version__
from pinhole.observability.context import current_dialect, current_request
from pinhole.observability.metrics import Metrics
from pinhole.observability.readings import History
from pinhole.observability.tracing import Tracing
from pinhole.settings import Settings

if TYPE_CHECKING:
    from pinhole.runtime import Runtime

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 1.0  # how often each process samples its gauges and flushes its tally
STORAGE_SAMPLE_SECONDS = 60.0  # how often the variant cache's size is read from the database

FAILED_CREDENTIAL_CODES = frozenset({"invalid_api_key", "session_expired", "token_reused", "csrf_failed"})


@dataclass
class Telemetry:
    metrics: Metrics
    tracing: Tracing
    history: History = field(default_factory=History)  # per-minute totals for the admin dashboard's charts
    _seen: dict[str, float] = field(default_factory=dict)  # last values of the services' own counters

    @classmethod
    def from_settings(cls, settings: Settings) -> Telemetry:
        telemetry = cls(metrics=Metrics(), tracing=Tracing(settings.tracing))
        libvips = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
        telemetry.metrics.set("pinhole_build_info", 1, (__version__, libvips))
        telemetry.metrics.set("pinhole_variant_cache_budget_bytes", settings.variant_cache.max_bytes)
        return telemetry

    # -- sampling: gauges and the services' own counters -------------------------------------------------------

    def _delta(self, name: str, key: str, value: float) -> None:
        """Count what a service's own monotonic counter gained since the last sample."""
        gained = value - self._seen.get(key, 0)
        self._seen[key] = value
        if gained > 0:
            self.metrics.tally.count(name, (), gained)

    def sample(self, runtime: Runtime) -> None:
        """Read the gauges and service counters of this process; then flush the tally into the families."""
        metrics = self.metrics
        pool = runtime.pool
        running = min(pool.admitted, pool.threads)
        metrics.set("pinhole_render_queue_running", running)
        metrics.set("pinhole_render_queue_depth", pool.admitted - running)
        self._delta("pinhole_overloaded_total", "overloaded", pool.refused)
        self._delta("pinhole_singleflight_joins_total", "joins", runtime.variants.flights.joins)
        hot = runtime.hot
        metrics.set("pinhole_memory_cache_bytes", hot.used)
        metrics.set("pinhole_memory_cache_entries", len(hot.items))
        self._delta_labelled("pinhole_memory_cache_requests_total", ("hit",), hot.hits)
        self._delta_labelled("pinhole_memory_cache_requests_total", ("miss",), hot.misses)
        self._sample_database(runtime)
        link = runtime.redis
        if link is not None:
            metrics.set("pinhole_redis_degraded", 1 if link.degraded else 0)
            self._delta("pinhole_redis_outages_total", "redis_outages", link.outages)
            self._delta("pinhole_redis_fallbacks_total", "redis_fallbacks", link.fallbacks)
        retries = getattr(getattr(runtime.store, "inner", runtime.store), "retries", None)
        if isinstance(retries, int):
            self._delta("pinhole_s3_retries_total", "s3_retries", retries)
        pruner = runtime.pruner
        self._delta("pinhole_variant_cache_prunes_total", "prunes", pruner.prunes)
        self._delta("pinhole_variant_cache_evicted_total", "evicted", pruner.evicted)
        self._delta("pinhole_variant_cache_evicted_bytes_total", "evicted_bytes", pruner.evicted_bytes)
        metrics.flush()
        self.history.maybe_snapshot(metrics)

    def _delta_labelled(self, name: str, labels: tuple[str, ...], value: float) -> None:
        key = f"{name}{labels}"
        gained = value - self._seen.get(key, 0)
        self._seen[key] = value
        if gained > 0:
            self.metrics.tally.count(name, labels, gained)

    def _sample_database(self, runtime: Runtime) -> None:
        in_use = overflow = 0
        for engine in {runtime.db.read_engine, runtime.db.write_engine}:
            pool: Any = engine.sync_engine.pool
            in_use += int(getattr(pool, "checkedout", lambda: 0)())
            overflow += max(0, int(getattr(pool, "overflow", lambda: 0)()))
        self.metrics.set("pinhole_db_pool_in_use", in_use)
        self.metrics.set("pinhole_db_pool_overflow", overflow)

    async def sample_storage(self, runtime: Runtime) -> None:
        """The variant cache's size from the database (one aggregate query)."""
        from pinhole.services.variant_cache import cache_stats

        stats = await cache_stats(db=runtime.db)
        self.metrics.set("pinhole_variant_cache_entries", stats.variants)
        self.metrics.set("pinhole_variant_cache_bytes", stats.bytes)

    # -- events --------------------------------------------------------------------------------------------------

    def request(self, dialect: str, route: str, method: str, status: int, seconds: float, sent: int) -> None:
        self.metrics.tally.request((dialect, route, method, status), seconds, sent)

    def pool_checkout(self, seconds: float) -> None:
        """A database connection was checked out of the pool after `seconds` (the engine's pool tells)."""
        self.metrics.tally.observe("pinhole_db_pool_wait_seconds", (), seconds)

    def error(self, dialect: str, route: str, code: str) -> None:
        """An error a route answered: every code counts once, and some in the security and load families too."""
        tally = self.metrics.tally
        tally.count("pinhole_api_errors_total", (dialect, code))
        if code in FAILED_CREDENTIAL_CODES:
            tally.count("pinhole_failed_credentials_total", (dialect, code))
        elif code == "rate_limited":
            tally.count("pinhole_rate_limit_refusals_total", (f"{dialect}.{route}",))
        elif code == "database_busy":
            tally.count("pinhole_db_pool_timeouts_total")


# -- reporting from services: each finds the request's telemetry (and does nothing outside a request) ----------


def _telemetry() -> Telemetry | None:
    found = current_request.get()
    return found.telemetry if found is not None else None


def record_answer(source: str) -> None:
    """An image or variant served from `memory`, the `store`, or a `render`."""
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.count("pinhole_delivery_answers_total", (source,))


def record_render(format_name: str, seconds: float) -> None:
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.observe("pinhole_render_duration_seconds", (format_name,), seconds)


def record_queue_wait(seconds: float) -> None:
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.observe("pinhole_render_queue_wait_seconds", (), seconds)


def record_fallback() -> None:
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.count("pinhole_fallback_images_total")


def record_uploads(*, outcomes: list[tuple[str, int]], seconds: float, kind: str = "image") -> None:
    """The files of one upload request: each (`stored` | `deduplicated`, bytes); `kind`: `image` or `avatar`."""
    if (telemetry := _telemetry()) is None:
        return
    dialect = current_dialect()
    tally = telemetry.metrics.tally
    for outcome, size in outcomes:
        tally.count("pinhole_uploads_total", (dialect, kind, outcome, ""))
        tally.count("pinhole_upload_bytes_total", (dialect, kind), size)
    tally.observe("pinhole_ingest_duration_seconds", (dialect, kind), seconds)


def record_refused_upload(reason: str, *, files: int, seconds: float, kind: str = "image") -> None:
    found = current_request.get()
    if found is None or found.telemetry is None:
        return
    found.upload_counted = True
    dialect = found.route[0]
    found.telemetry.metrics.tally.count("pinhole_uploads_total", (dialect, kind, "refused", reason), files)
    found.telemetry.metrics.tally.observe("pinhole_ingest_duration_seconds", (dialect, kind), seconds)


def record_signature_refusal(code: str) -> None:
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.count("pinhole_signature_refusals_total", (code,))


def record_signin_backoff() -> None:
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.count("pinhole_signin_backoffs_total", (current_dialect(),))


def record_failed_credentials(code: str) -> None:
    """A credential refused where no error code says so (a wrong password: the answer is a plain 401)."""
    if (telemetry := _telemetry()) is not None:
        telemetry.metrics.tally.count("pinhole_failed_credentials_total", (current_dialect(), code))


def record_error(code: str) -> None:
    """An error a route raised (called where each API renders its errors). An upload refused before it reached
    ingest (too large while streaming, malformed form) counts as a refused upload here."""
    found = current_request.get()
    if found is None or found.telemetry is None:
        return
    dialect, route = found.route
    found.telemetry.error(dialect, route, code)
    if route.rpartition(".")[2] == "upload" and not found.upload_counted:
        found.upload_counted = True
        kind = "avatar" if route.startswith("avatars") else "image"
        found.telemetry.metrics.tally.count("pinhole_uploads_total", (dialect, kind, "refused", code))
