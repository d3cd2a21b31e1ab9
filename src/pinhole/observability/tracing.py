"""OpenTelemetry traces: a span per request with child spans for the database, blob store, Redis and renders.

Off by default, and then free: `span()` hands back one shared no-op context manager. Turned on by
`PINHOLE_TRACING__OTLP_ENDPOINT` (spans go there over OTLP/HTTP) or `PINHOLE_TRACING__ENABLED` (spans are made, so
log lines carry trace ids, but sent nowhere unless a processor is added). Needs the `otel` extra. Each app has its
own `TracerProvider`, never the global one, so apps in one process do not share spans.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from pinhole.observability.context import current_request
from pinhole.settings import TracingSettings

_NOTHING: AbstractContextManager[None] = contextlib.nullcontext()


class Tracing:
    """The app's tracer, or nothing when tracing is off."""

    def __init__(self, settings: TracingSettings) -> None:
        self.enabled = settings.enabled or settings.otlp_endpoint is not None
        self.provider: Any = None
        self.tracer: Any = None
        if not self.enabled:
            return
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("tracing needs the `otel` extra: pip install 'pinhole[otel]'") from exc
        from pinhole import __version__

        resource = Resource.create({"service.name": settings.service_name, "service.version": __version__})
        self.provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)))
        if settings.otlp_endpoint is not None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
        self.tracer = self.provider.get_tracer("pinhole")

    def request_span(self, name: str, headers: Mapping[str, str], attributes: dict[str, Any]) -> Any:
        """The server span of one request, continuing the caller's trace when it sent `traceparent`."""
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind

        parent = extract(dict(headers))
        return self.tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def _tracing() -> Tracing | None:
    found = current_request.get()
    telemetry = found.telemetry if found is not None else None
    tracing = telemetry.tracing if telemetry is not None else None
    return tracing if tracing is not None and tracing.enabled else None


def span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A child span of the current request's span (a shared no-op when tracing is off or outside a request)."""
    tracing = _tracing()
    if tracing is None:
        return _NOTHING
    return tracing.tracer.start_as_current_span(name, attributes=attributes)  # type: ignore[no-any-return]


def trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, for log lines; None when nothing is traced."""
    if _tracing() is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def instrument_engine(engine: Any) -> None:
    """A `db` span around every statement run on this (sync) engine, when the request is traced."""
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        tracing = _tracing()
        if tracing is None:
            return
        operation = statement.lstrip().split(" ", 1)[0].upper()
        manager = tracing.tracer.start_as_current_span(
            f"db {operation}",
            attributes={"db.system": engine.dialect.name, "db.statement": statement[:200]},
        )
        manager.__enter__()
        context._pinhole_span = manager

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        manager = getattr(context, "_pinhole_span", None)
        if manager is not None:
            context._pinhole_span = None
            manager.__exit__(None, None, None)

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        manager = getattr(context, "_pinhole_span", None) if context is not None else None
        if manager is not None:
            context._pinhole_span = None
            error = exception_context.original_exception
            manager.__exit__(type(error), error, None)
