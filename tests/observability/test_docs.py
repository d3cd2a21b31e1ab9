"""The operators' docs match the metrics: every family is documented, and every metric the Grafana dashboard, the
alert examples and docs/observability.md query is one a real scrape exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from pinhole.observability.metrics import FAMILIES

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).resolve().parents[2] / "docs"
METRIC = re.compile(r"\b(?:pinhole|process|python)_[a-z0-9_]*[a-z0-9]\b")


async def _exported(http: httpx.AsyncClient) -> set[str]:
    text = (await http.get("/metrics")).text
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def _dashboard_queries() -> list[str]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_family_is_documented() -> None:
    text = (DOCS / "observability.md").read_text()
    assert [family.name for family in FAMILIES if f"`{family.name}`" not in text] == []


async def test_the_dashboard_queries_only_metrics_that_exist(http: httpx.AsyncClient) -> None:
    exported = await _exported(http)
    queries = _dashboard_queries()
    assert len(queries) > 20
    used = {name for query in queries for name in METRIC.findall(query)}
    assert used - exported == set()
    # And it shows every pinhole family at least once.
    assert {family.name for family in FAMILIES} - {re.sub(r"_(bucket|sum|count)$", "", name) for name in used} == set()


@pytest.mark.parametrize("document", ["prometheus-alerts.yml", "observability.md"])
async def test_alerts_and_docs_name_only_metrics_that_exist(http: httpx.AsyncClient, document: str) -> None:
    exported = await _exported(http)
    used = set(METRIC.findall((DOCS / document).read_text()))
    wildcards = {"process_", "python_gc_", "python_info"}
    assert {name for name in used - exported if not any(name.startswith(w) for w in wildcards)} == set()
