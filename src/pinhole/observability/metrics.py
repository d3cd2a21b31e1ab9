"""Prometheus metrics: every family pinhole exports, kept in one `CollectorRegistry` per app.

Hot paths (each request, each warm hit) never call prometheus_client: they add to plain dicts in a `Tally`, and
`Metrics.flush()` moves the sums into the families about once a second and before every scrape. Under
`pinhole serve` the families live in prometheus_client's multiprocess files, so a scrape of any worker sums all of
them (docs/observability.md lists every family and what it means).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.platform_collector import PlatformCollector

from pinhole.observability.processes import WorkerProcessCollector

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
POOL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GaugeMode = str


@dataclass(frozen=True)
class Family:
    """One metric family: its kind, labels and meaning (the meaning is its HELP text and its line in the docs)."""

    name: str
    kind: str  # counter, gauge, histogram
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    mode: GaugeMode = "livesum"  # how gauges of several worker processes combine


FAMILIES: tuple[Family, ...] = (
    # HTTP
    Family(
        "pinhole_http_requests_total",
        "counter",
        "HTTP requests answered, by API dialect, route name, method and status class (2xx..5xx).",
        ("dialect", "route", "method", "status"),
    ),
    Family(
        "pinhole_http_request_duration_seconds",
        "histogram",
        "Time from a request's arrival to its last response byte, by dialect and route.",
        ("dialect", "route"),
    ),
    Family(
        "pinhole_http_response_bytes_total",
        "counter",
        "Response body bytes sent, by dialect and route.",
        ("dialect", "route"),
    ),
    # Delivery
    Family(
        "pinhole_delivery_answers_total",
        "counter",
        "Images and variants served, by where the bytes came from: `memory` (the warm fast path's memory cache), "
        "`store` (an original or an already rendered variant from the blob store), `render` (rendered for this "
        "request, or joined a render in flight).",
        ("source",),
    ),
    Family(
        "pinhole_render_duration_seconds",
        "histogram",
        "Time to render one variant (decode, transform, encode), by output format.",
        ("format",),
        RENDER_BUCKETS,
    ),
    Family(
        "pinhole_render_queue_depth",
        "gauge",
        "Image jobs (renders, upload checks) waiting for a worker thread right now (all processes).",
    ),
    Family(
        "pinhole_render_queue_running",
        "gauge",
        "Image jobs running on a worker thread right now (all processes).",
    ),
    Family(
        "pinhole_render_queue_wait_seconds",
        "histogram",
        "Time an image job waited for a worker thread.",
        (),
        RENDER_BUCKETS,
    ),
    Family(
        "pinhole_overloaded_total",
        "counter",
        "Requests refused with 503 + Retry-After because the image worker queue was full (back-pressure).",
    ),
    Family(
        "pinhole_singleflight_joins_total",
        "counter",
        "Requests for a variant that was already being rendered, which waited for that render instead of "
        "rendering again.",
    ),
    Family(
        "pinhole_fallback_images_total",
        "counter",
        "Fallback images served instead of an image the caller may not see or that does not exist.",
    ),
    # Ingest
    Family(
        "pinhole_uploads_total",
        "counter",
        "Files uploaded, by API dialect, kind (`image`, or `avatar`: v2's `/avatars`) and outcome: `stored` (new "
        "content), `deduplicated` (content already stored), `refused` (with `reason`, the error code: "
        "`file_too_large`, `unsupported_format`, ...).",
        ("dialect", "kind", "outcome", "reason"),
    ),
    Family(
        "pinhole_upload_bytes_total",
        "counter",
        "Bytes of accepted uploads (after normalisation), by API dialect and kind.",
        ("dialect", "kind"),
    ),
    Family(
        "pinhole_ingest_duration_seconds",
        "histogram",
        "Time to check, normalise, store and record one upload request's files, by API dialect and kind.",
        ("dialect", "kind"),
        RENDER_BUCKETS,
    ),
    # Storage and caches
    Family(
        "pinhole_variant_cache_bytes",
        "gauge",
        "Bytes of rendered variants in the blob store (from the database; sampled every minute).",
        mode="mostrecent",
    ),
    Family(
        "pinhole_variant_cache_entries",
        "gauge",
        "Rendered variants in the blob store (from the database; sampled every minute).",
        mode="mostrecent",
    ),
    Family(
        "pinhole_variant_cache_budget_bytes",
        "gauge",
        "The variant cache's budget (`PINHOLE_VARIANT_CACHE__MAX_BYTES`; 0: unlimited).",
        mode="max",
    ),
    Family("pinhole_variant_cache_prunes_total", "counter", "Prunes of the variant cache that evicted something."),
    Family("pinhole_variant_cache_evicted_total", "counter", "Variants evicted by prunes."),
    Family("pinhole_variant_cache_evicted_bytes_total", "counter", "Bytes of variants evicted by prunes."),
    Family("pinhole_memory_cache_bytes", "gauge", "Bytes held by the per-process memory caches (all processes)."),
    Family("pinhole_memory_cache_entries", "gauge", "Entries in the per-process memory caches (all processes)."),
    Family(
        "pinhole_memory_cache_requests_total",
        "counter",
        "Lookups in the memory cache of hot blobs, by result (`hit`, `miss`).",
        ("result",),
    ),
    Family(
        "pinhole_blob_store_operations_total",
        "counter",
        "Blob store operations, by backend (`local`, `s3`) and operation (`get`, `put`, `stat`, `delete`, ...).",
        ("backend", "operation"),
    ),
    Family(
        "pinhole_blob_store_errors_total",
        "counter",
        "Blob store operations that failed (other than a missing blob), by backend and operation.",
        ("backend", "operation"),
    ),
    # Security
    Family(
        "pinhole_rate_limit_refusals_total",
        "counter",
        "Requests refused with 429 by a rate limit, by scope (`<dialect>.<route>`).",
        ("scope",),
    ),
    Family(
        "pinhole_failed_credentials_total",
        "counter",
        "Requests refused for their credentials, by dialect and error code (`invalid_api_key`, "
        "`session_expired`, `token_reused`, `csrf_failed`, `wrong_password`).",
        ("dialect", "code"),
    ),
    Family(
        "pinhole_signin_backoffs_total",
        "counter",
        "Sign-ins refused because the account or address is in its back-off after failed attempts.",
        ("dialect",),
    ),
    Family(
        "pinhole_signature_refusals_total",
        "counter",
        "Transform URLs refused for their signature, by error code (`missing_signature`, `invalid_signature`, "
        "`expired_signature`, `unknown_signing_key`).",
        ("code",),
    ),
    Family(
        "pinhole_api_errors_total",
        "counter",
        "Errors answered by the APIs, by dialect and error code (every 4xx and 5xx a route raised).",
        ("dialect", "code"),
    ),
    # Dependencies
    Family("pinhole_db_pool_in_use", "gauge", "Database connections checked out right now (all processes)."),
    Family(
        "pinhole_db_pool_overflow",
        "gauge",
        "Database connections open above the pool size right now (all processes; PostgreSQL).",
    ),
    Family(
        "pinhole_db_pool_wait_seconds",
        "histogram",
        "Time to check a database connection out of the pool: waiting for a free one, or opening one, and its "
        "liveness check (PostgreSQL).",
        (),
        POOL_BUCKETS,
    ),
    Family(
        "pinhole_db_pool_timeouts_total",
        "counter",
        "Requests answered 503 because no database connection was free in time or a statement ran out of time.",
    ),
    Family(
        "pinhole_redis_degraded",
        "gauge",
        "1 while Redis is unreachable and instances fall back to in-process state, else 0 (worst process).",
        mode="livemax",
    ),
    Family("pinhole_redis_outages_total", "counter", "Times Redis became unreachable (as seen by each process)."),
    Family(
        "pinhole_redis_fallbacks_total",
        "counter",
        "Redis operations answered by the in-process fallback because Redis was unreachable or cooling down.",
    ),
    Family("pinhole_s3_retries_total", "counter", "Requests to the S3 service that were retried (transient failures)."),
    # Process
    Family(
        "pinhole_build_info",
        "gauge",
        "Always 1; the labels name the pinhole and libvips versions.",
        ("version", "libvips"),
        mode="max",
    ),
)
FAMILY_NAMES = frozenset(family.name for family in FAMILIES)


def multiprocess_dir() -> str | None:
    """The folder of prometheus_client's multiprocess files (`pinhole serve` sets it), None in a single process."""
    return os.environ.get(MULTIPROC_VARIABLE) or None


def _build(family: Family, registry: CollectorRegistry) -> MetricWrapperBase:
    name = family.name.removesuffix("_total") if family.kind == "counter" else family.name
    if family.kind == "counter":
        return Counter(name, family.help, family.labels, registry=registry)
    if family.kind == "histogram":
        return Histogram(name, family.help, family.labels, registry=registry, buckets=family.buckets)
    return Gauge(name, family.help, family.labels, registry=registry, multiprocess_mode=family.mode)  # type: ignore[arg-type]


class Tally:
    """Counts and observations in plain dicts: what a hot path pays for a metric is one dict update."""

    def __init__(self, bounds: dict[str, tuple[float, ...]]) -> None:
        self.counts: dict[tuple[str, tuple[str, ...]], float] = {}
        self.histograms: dict[tuple[str, tuple[str, ...]], list[float]] = {}  # bucket counts..., +Inf, sum
        self.requests: dict[tuple[str, str, str, int], list[float]] = {}
        # Warm hits of the v2 fast path by source: the fast path holds this dict and adds 1 (the cheapest count).
        self.answers: dict[str, int] = {"memory": 0, "store": 0}
        self._bounds = bounds

    def count(self, name: str, labels: tuple[str, ...] = (), amount: float = 1) -> None:
        key = (name, labels)
        self.counts[key] = self.counts.get(key, 0) + amount

    def observe(self, name: str, labels: tuple[str, ...], value: float) -> None:
        key = (name, labels)
        slots = self.histograms.get(key)
        bounds = self._bounds[name]
        if slots is None:
            slots = self.histograms[key] = [0.0] * (len(bounds) + 2)
        slots[bisect.bisect_left(bounds, value)] += 1
        slots[-1] += value

    def request(self, labels: tuple[str, str, str, int], seconds: float, sent: int) -> None:
        """One HTTP request (dialect, route, method, status): a single dict update for its three families."""
        slots = self.requests.get(labels)
        if slots is None:
            slots = self.requests[labels] = [0.0] * (len(LATENCY_BUCKETS) + 4)  # count, bytes, buckets, +Inf, sum
        slots[0] += 1
        slots[1] += sent
        slots[2 + bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        slots[-1] += seconds

    def take(self) -> tuple[dict[tuple[str, tuple[str, ...]], float], dict[tuple[str, tuple[str, ...]], list[float]]]:
        """What was gathered since the last call, as counts and histogram slots by (family, labels)."""
        counts, histograms, requests = self.counts, self.histograms, self.requests
        self.counts, self.histograms, self.requests = {}, {}, {}
        for source, answered in self.answers.items():
            if answered:
                self.answers[source] = 0  # in place: the fast path keeps a reference to this dict
                answer: tuple[str, tuple[str, ...]] = ("pinhole_delivery_answers_total", (source,))
                counts[answer] = counts.get(answer, 0) + answered
        for (dialect, route, method, status), slots in requests.items():
            key: tuple[str, tuple[str, ...]] = (
                "pinhole_http_requests_total",
                (dialect, route, method, f"{status // 100}xx"),
            )
            counts[key] = counts.get(key, 0) + slots[0]
            if slots[1]:
                key = ("pinhole_http_response_bytes_total", (dialect, route))
                counts[key] = counts.get(key, 0) + slots[1]
            key = ("pinhole_http_request_duration_seconds", (dialect, route))
            merged = histograms.setdefault(key, [0.0] * (len(LATENCY_BUCKETS) + 2))
            for index, amount in enumerate(slots[2:]):
                merged[index] += amount
        return counts, histograms


class Metrics:
    """The app's metric families, on a registry of its own (never prometheus_client's global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.families: dict[str, MetricWrapperBase] = {f.name: _build(f, self.registry) for f in FAMILIES}
        bounds = {f.name: f.buckets for f in FAMILIES if f.kind == "histogram"}
        self.tally = Tally(bounds)
        self._children: dict[tuple[str, tuple[str, ...]], MetricWrapperBase] = {}
        if multiprocess_dir() is None:
            register_process_collectors(self.registry)

    def child(self, name: str, labels: Sequence[str] = ()) -> MetricWrapperBase:
        key = (name, tuple(labels))
        found = self._children.get(key)
        if found is None:
            family = self.families[name]
            found = self._children[key] = family.labels(*labels) if labels else family
        return found

    def set(self, name: str, value: float, labels: Sequence[str] = ()) -> None:
        self.child(name, labels).set(value)  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Add what the tally gathered since the last flush to the families."""
        counts, histograms = self.tally.take()
        for (name, labels), amount in counts.items():
            self.child(name, labels).inc(amount)  # type: ignore[attr-defined]
        for (name, labels), slots in histograms.items():
            child = self.child(name, labels)
            # Whole buckets at once: prometheus_client keeps per-bucket (not cumulative) values and a sum.
            for index, amount in enumerate(slots[:-1]):
                if amount:
                    child._buckets[index].inc(amount)  # type: ignore[attr-defined]
            child._sum.inc(slots[-1])  # type: ignore[attr-defined]

    def exposition(self) -> bytes:
        """The text format of every family (all worker processes in multiprocess mode) and of this process."""
        self.flush()
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        return self.exposition_of_files()

    @staticmethod
    def exposition_of_files() -> bytes:
        """Every worker's metrics summed from the multiprocess files, and the answering process's own."""
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir())  # type: ignore[no-untyped-call]
        register_process_collectors(registry)
        return generate_latest(registry)


def register_process_collectors(registry: CollectorRegistry) -> None:
    """process_* of every live worker (by `pid`); python_info and python_gc_* of the answering process."""
    registry.register(WorkerProcessCollector(multiprocess_dir()))
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
