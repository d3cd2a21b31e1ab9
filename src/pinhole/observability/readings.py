"""The metrics read back for people: totals of every worker process, a per-minute history, latency percentiles.

The admin dashboard draws these (web/admin.py); they are the same numbers `/metrics` exports, summed the same way.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.metrics_core import Metric

from pinhole.observability.metrics import Metrics, multiprocess_dir

HISTORY_MINUTES = 60


def _families(metrics: Metrics) -> Iterable[Metric]:
    folder = multiprocess_dir()
    if folder is None:
        return metrics.registry.collect()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return registry.collect()


@dataclass(frozen=True)
class Totals:
    """Counts since the server started, all processes."""

    requests: float = 0
    answers: dict[str, float] = field(default_factory=dict)  # delivery answers by source
    render_buckets: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # format -> (le, cumulative)

    @property
    def warm(self) -> float:
        return self.answers.get("memory", 0) + self.answers.get("store", 0)

    @property
    def delivered(self) -> float:
        return self.warm + self.answers.get("render", 0)


def read_totals(metrics: Metrics) -> Totals:
    metrics.flush()
    requests = 0.0
    answers: dict[str, float] = {}
    buckets: dict[str, dict[float, float]] = {}
    for family in _families(metrics):
        for sample in family.samples:
            if sample.name == "pinhole_http_requests_total":
                requests += sample.value
            elif sample.name == "pinhole_delivery_answers_total":
                source = sample.labels["source"]
                answers[source] = answers.get(source, 0) + sample.value
            elif sample.name == "pinhole_render_duration_seconds_bucket":
                by_le = buckets.setdefault(sample.labels["format"], {})
                le = float(sample.labels["le"])
                by_le[le] = by_le.get(le, 0) + sample.value
    render = {name: sorted(by_le.items()) for name, by_le in buckets.items()}
    return Totals(requests=requests, answers=answers, render_buckets=render)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Like PromQL's `histogram_quantile`: linear within the bucket holding the q-th observation."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * ((rank - below) / (count - below) if count > below else 1.0)
        lower, below = le, count
    return lower


@dataclass(frozen=True)
class Minute:
    at: float
    requests: float
    warm: float
    delivered: float


@dataclass
class History:
    """A snapshot of the totals every minute (the sampler takes them), for charts of the last hour."""

    minutes: deque[tuple[float, Totals]] = field(default_factory=lambda: deque(maxlen=HISTORY_MINUTES + 1))
    _last: float = 0.0

    def maybe_snapshot(self, metrics: Metrics, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if now - self._last >= 60:
            self._last = now
            self.minutes.append((now, read_totals(metrics)))

    def per_minute(self, current: Totals | None = None, now: float | None = None) -> list[Minute]:
        """What happened in each minute between consecutive snapshots (oldest first); with `current`, the minute
        under way too (from the last snapshot to now)."""
        snapshots = list(self.minutes)
        if current is not None and snapshots:
            snapshots.append((time.time() if now is None else now, current))
        return [
            Minute(
                at=at,
                requests=max(0.0, after.requests - before.requests),
                warm=max(0.0, after.warm - before.warm),
                delivered=max(0.0, after.delivered - before.delivered),
            )
            for (_, before), (at, after) in itertools.pairwise(snapshots)
        ]
