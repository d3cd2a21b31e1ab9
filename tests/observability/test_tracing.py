"""OpenTelemetry spans, caught by the SDK's in-memory exporter: a span per request with database, blob store and
render children; off by default."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pinhole.observability.logging import ACCESS_LOGGER, ContextFilter, JsonFormatter
from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio
TRACED = {"tracing": {"enabled": True}}


@pytest.fixture
def exporter(runtime: Runtime) -> InMemorySpanExporter:
    found = InMemorySpanExporter()
    runtime.telemetry.tracing.provider.add_span_processor(SimpleSpanProcessor(found))
    return found


def _trace(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    return [span for span in spans if span.context is not None and span.context.trace_id == root.context.trace_id]


@pytest.mark.parametrize("settings_overrides", [TRACED])
async def test_a_request_span_with_database_blob_and_render_children(
    http: httpx.AsyncClient, tenant: ApiClient, exporter: InMemorySpanExporter
) -> None:
    image = await upload(http, tenant, make_jpeg(200, 100))
    exporter.clear()
    response = await http.get(
        f"/v2/images/{image['id']}",
        params={"w": 50, "format": "png"},
        headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    )
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    root = next(span for span in spans if span.name == "GET /v2/images/{image_id}")
    assert root.context is not None
    assert f"{root.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"  # continued the caller's trace
    assert root.attributes is not None
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["pinhole.dialect"] == "v2"
    names = {span.name for span in _trace(spans, root)}
    assert "render" in names
    assert {"blob get", "blob put"} <= names
    assert any(name.startswith("db ") for name in names)


@pytest.mark.parametrize("settings_overrides", [TRACED | {"log": {"access": True}}])
async def test_log_lines_carry_the_trace_id(
    http: httpx.AsyncClient, tenant: ApiClient, exporter: InMemorySpanExporter
) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        await upload(http, tenant)
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    line = json.loads(buffer.getvalue().splitlines()[-1])
    root = next(span for span in exporter.get_finished_spans() if span.name == "POST /v2/images")
    assert root.context is not None
    assert line["trace_id"] == f"{root.context.trace_id:032x}"


async def test_tracing_is_off_by_default(runtime: Runtime, http: httpx.AsyncClient) -> None:
    assert runtime.telemetry.tracing.enabled is False
    assert runtime.telemetry.tracing.provider is None
    assert (await http.get("/healthz")).status_code == 200
