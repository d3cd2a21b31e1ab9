"""What the admin dashboard's charts show: storage per day from the database, and traffic, warm-hit ratio and
render latency from the same metrics `/metrics` exports (all worker processes; per minute since this one started).
"""

from __future__ import annotations

import datetime
from typing import Any

from pinhole.observability.readings import HISTORY_MINUTES, quantile, read_totals
from pinhole.runtime import Runtime
from pinhole.services import stats as stats_service
from pinhole.web.charts import columns, ranked

DAYS = 30
QUANTILES = ((0.5, "p50"), (0.9, "p90"), (0.99, "p99"))
TOP = 5


def _size(value: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


def _clock(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%H:%M")


async def dashboard_charts(runtime: Runtime) -> dict[str, Any]:
    telemetry = runtime.telemetry
    storage = await stats_service.stored_bytes_per_day(db=runtime.db, days=DAYS)
    figures = await stats_service.global_stats(db=runtime.db)
    images = await stats_service.busiest_images(db=runtime.db, limit=TOP)
    totals = read_totals(telemetry.metrics)
    minutes = telemetry.history.per_minute(totals)
    latency = [
        (f"{name} {label}", seconds * 1000)
        for name, buckets in sorted(totals.render_buckets.items())
        for q, label in QUANTILES
        if (seconds := quantile(q, buckets)) is not None
    ]
    busiest_clients = [(client.name, float(counts.views)) for client, counts in figures.per_client if counts.views]
    return {
        "storage_chart": columns([(day.isoformat(), float(size)) for day, size in storage], fmt="{:,.0f}"),
        "storage_now": _size(storage[-1][1] if storage else 0),
        "requests_chart": columns([(_clock(m.at), m.requests) for m in minutes], slots=HISTORY_MINUTES),
        "hits_chart": columns(
            [(_clock(m.at), m.warm / m.delivered if m.delivered else 0.0) for m in minutes],
            fmt="{:.0%}",
            top=1.0,
            slots=HISTORY_MINUTES,
        ),
        "requests_total": totals.requests,
        "hit_ratio": totals.warm / totals.delivered if totals.delivered else None,
        "delivered_total": totals.delivered,
        "latency_bars": ranked(latency, fmt="{:,.0f} ms"),
        "client_bars": ranked(_top(busiest_clients)),
        "image_bars": ranked([(name, float(views)) for _, name, views in images]),
    }


def _top(items: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return sorted(items, key=lambda item: item[1], reverse=True)[:TOP]
