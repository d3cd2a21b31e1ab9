"""The numbers behind the dashboard's charts: percentiles from histogram buckets, per-minute history, scaling."""

from __future__ import annotations

from pinhole.observability.metrics import Metrics
from pinhole.observability.readings import History, quantile, read_totals
from pinhole.web.charts import columns, ranked


def test_quantile_interpolates_within_the_bucket_like_promql() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == 0.1
    assert quantile(0.7, buckets) == 0.1 + 0.4 * (20 / 40)
    assert quantile(0.99, buckets) == 0.5 + 0.5 * (9 / 10)
    assert quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None


def test_totals_and_the_minute_under_way() -> None:
    metrics = Metrics()
    history = History()
    metrics.tally.request(("v2", "images.serve", "GET", 200), 0.002, 100)
    metrics.tally.count("pinhole_delivery_answers_total", ("render",))
    history.maybe_snapshot(metrics, now=1000.0)
    for _ in range(3):
        metrics.tally.request(("v2", "images.serve", "GET", 200), 0.001, 100)
        metrics.tally.count("pinhole_delivery_answers_total", ("memory",))
    metrics.tally.observe("pinhole_render_duration_seconds", ("webp",), 0.02)
    history.maybe_snapshot(metrics, now=1030.0)  # under a minute: no new snapshot
    totals = read_totals(metrics)
    assert (totals.requests, totals.warm, totals.delivered) == (4, 3, 4)
    assert quantile(0.5, totals.render_buckets["webp"]) is not None
    [minute] = history.per_minute(totals, now=1050.0)
    assert (minute.requests, minute.warm, minute.delivered) == (3, 3, 3)


def test_columns_scale_and_keep_room_for_the_axis() -> None:
    chart = columns([("a", 1.0), ("b", 4.0)], width=400, height=100, slots=4)
    assert [(c.x, c.height) for c in chart.columns] == [(201.0, 25.0), (301.0, 100.0)]
    assert (chart.first, chart.last, chart.top) == ("a", "b", "4")
    assert [bar.percent for bar in ranked([("x", 1), ("y", 4)])] == [100.0, 25.0]
