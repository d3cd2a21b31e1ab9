"""The outermost ASGI layer: request id, metrics, the access log line and the request's span, for every request.

Raw ASGI (no `BaseHTTPMiddleware`), so the warm fast path behind it pays a few dict updates, not a task. Dialect and
route come from the matched route after the app ran (`context.route_labels`), never from the path.
"""

from __future__ import annotations

import logging
import re
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pinhole.api.proxies import is_trusted_address
from pinhole.observability.access import access_record, path_for_log
from pinhole.observability.context import RequestContext, current_request, new_request_id, route_labels
from pinhole.observability.logging import ACCESS_LOGGER
from pinhole.observability.telemetry import Telemetry
from pinhole.settings import Settings

REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:@/+=\-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)


def _declared_length(start: Message) -> int:
    for name, value in start.get("headers", ()):
        if name == b"content-length":
            return int(value)
    return 0


def _route_template(scope: Scope) -> str:
    """The matched route's path as a template (`/v2/images/{image_id}`), rebuilt from the path and its parameters."""
    path: str = scope["path"]
    if scope.get("route") is None and scope.get("endpoint") is None:
        return "unmatched"
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value)
        if text:
            path = path.replace(text, "{" + name + "}", 1)
    return path


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, telemetry: Telemetry, settings: Settings) -> None:
        self.app = app
        self.telemetry = telemetry
        self.trusted = tuple(settings.server.trusted_proxies)
        self.access = settings.log.access
        self.tracing = telemetry.tracing if telemetry.tracing.enabled else None
        self.requests = telemetry.metrics.tally.request  # bound once: a warm hit pays one call

    def _request_id(self, scope: Scope) -> str:
        """The trusted proxy's `X-Request-Id` when it sent a well-formed one, else a new id."""
        client = scope.get("client")
        if client and self.trusted:
            for name, value in scope["headers"]:
                if name == REQUEST_ID_HEADER:
                    if _VALID_ID.fullmatch(value) and is_trusted_address(client[0], self.trusted):
                        return str(value.decode("ascii"))
                    break
        return new_request_id()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        context = RequestContext(self._request_id(scope), scope, self.telemetry)
        token = current_request.set(context)
        header = (REQUEST_ID_HEADER, context.request_id.encode("ascii"))
        # [status, bytes sent, the start message]: one list the wrapper updates (cheaper than nonlocal cells)
        answer: list[Any] = [500, 0, None]

        async def observed_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                answer[1] += len(message.get("body", b""))
            elif kind == "http.response.start":
                answer[0] = message["status"]
                headers = message.get("headers")
                if isinstance(headers, list):  # the response's own list: append rather than copy (hot path)
                    headers.append(header)
                else:
                    message = {**message, "headers": [*(headers or ()), header]}
                answer[2] = message
            elif kind == "http.response.pathsend":  # granian sends the file itself: count what was declared
                answer[1] += _declared_length(answer[2] or {})
            await send(message)

        try:
            if self.tracing is None:
                try:
                    await self.app(scope, receive, observed_send)
                finally:
                    self._finish(context, scope, answer, started)
            else:
                await self._traced(scope, receive, observed_send, context, answer, started)
        finally:
            current_request.reset(token)

    def _finish(self, context: RequestContext, scope: Scope, answer: list[Any], started: float) -> None:
        """Count the request, and write its access line (built from the raw values; formatted by the handler)."""
        seconds = perf_counter() - started
        dialect, route = route_labels(scope)
        status, sent = answer[0], answer[1]
        self.requests((dialect, route, scope["method"], status), seconds, sent)
        if self.access and access_log.isEnabledFor(logging.INFO):
            access_log.handle(access_record(context, scope, status, seconds, sent, dialect, route))

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, context: RequestContext, answer: list[Any], started: float
    ) -> None:
        """The request inside its server span; metrics and the access line are written inside it (trace id)."""
        assert self.tracing is not None
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        attributes = {"http.request.method": scope["method"]}
        with self.tracing.request_span(scope["method"], headers, attributes) as span:
            span.set_attribute("pinhole.request_id", context.request_id)
            try:
                await self.app(scope, receive, send)
            finally:
                dialect, _ = context.route
                template = _route_template(scope)
                span.update_name(f"{scope['method']} {template}")
                span.set_attribute("http.response.status_code", answer[0])
                span.set_attribute("http.route", template)
                span.set_attribute("url.path", path_for_log(scope))  # after routing: secret parameters masked
                span.set_attribute("pinhole.dialect", dialect)
                if answer[0] >= 500:
                    from opentelemetry.trace import Status, StatusCode

                    span.set_status(Status(StatusCode.ERROR))
                self._finish(context, scope, answer, started)
