"""The outermost ASGI layer: request id, metrics, the access log line and the request's span, for every request.

Raw ASGI (no `BaseHTTPMiddleware`), so the warm fast path behind it pays a few dict updates, not a task. Dialect and
route come from the matched route after the app ran (`context.route_labels`), never from the path.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pinhole.api.proxies import is_trusted_address
from pinhole.observability.context import RequestContext, current_request, new_request_id
from pinhole.observability.logging import ACCESS_LOGGER
from pinhole.observability.telemetry import Telemetry
from pinhole.settings import Settings

REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:@/+=\-]{1,128}")
_SECRET_PARAMS = ("token", "key", "secret", "sig", "password")

access_log = logging.getLogger(ACCESS_LOGGER)


def _path_for_log(scope: Scope) -> str:
    """The request path with the values of secret-looking path parameters (share tokens, keys) masked."""
    path: str = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        if any(word in name.lower() for word in _SECRET_PARAMS) and isinstance(value, str) and value:
            path = path.replace(value, "***")
    return path


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
        started = time.perf_counter()
        context = RequestContext(self._request_id(scope), scope, self.telemetry)
        token = current_request.set(context)
        header = (REQUEST_ID_HEADER, context.request_id.encode("ascii"))
        status = 500
        sent = 0
        start: Message = {}

        async def observed_send(message: Message) -> None:
            nonlocal status, sent, start
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
                headers = message.get("headers")
                if isinstance(headers, list):  # the response's own list: append rather than copy (hot path)
                    headers.append(header)
                else:
                    message = {**message, "headers": [*(headers or ()), header]}
                start = message
            elif kind == "http.response.pathsend":  # granian sends the file itself: count what was declared
                sent += _declared_length(start)
            await send(message)

        def finish() -> None:
            seconds = time.perf_counter() - started
            dialect, route = context.route
            self.telemetry.request(dialect, route, scope["method"], status, seconds, sent)
            if self.access:
                self._log(context, scope, status, seconds, sent, dialect, route)

        try:
            if self.tracing is None:
                try:
                    await self.app(scope, receive, observed_send)
                finally:
                    finish()
            else:
                await self._traced(scope, receive, observed_send, context, lambda: status, finish)
        finally:
            current_request.reset(token)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, context: RequestContext, status: Any, finish: Any
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
                span.set_attribute("http.response.status_code", status())
                span.set_attribute("http.route", template)
                span.set_attribute("url.path", _path_for_log(scope))  # after routing: secret parameters masked
                span.set_attribute("pinhole.dialect", dialect)
                if status() >= 500:
                    from opentelemetry.trace import Status, StatusCode

                    span.set_status(Status(StatusCode.ERROR))
                finish()

    def _log(
        self, context: RequestContext, scope: Scope, status: int, seconds: float, sent: int, dialect: str, route: str
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        principal = context.principal()
        client = scope.get("client")
        access_log.info(
            "%s %s %d %.1fms",
            scope["method"],
            _path_for_log(scope),
            status,
            seconds * 1000,
            extra={
                "method": scope["method"],
                "path": _path_for_log(scope),
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "bytes": sent,
                "dialect": dialect,
                "route": route,
                "principal_kind": principal[0] if principal else "anonymous",
                "principal_id": principal[1] if principal else "",
                "client": client[0] if client else None,
            },
        )
