"""Turning typed errors into responses, once per API dialect.

Each dialect routes through a `route_class` made here with its own renderer, so the same `PinholeError`
comes out in each API's documented shape. Unexpected exceptions are logged and become a generic 500.
The route class also finishes every response with its caching headers (`api.caching`) and its rate-limit headers
(`api.ratelimit`): FastAPI would not merge headers set by a dependency into a `Response` a route returns, nor into
an error rendered here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy.exc
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from pinhole.api import caching, ratelimit
from pinhole.errors import (
    Conflict,
    DatabaseBusy,
    Forbidden,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PinholeError,
    Unauthorized,
)
from pinhole.observability.telemetry import record_error

log = logging.getLogger(__name__)

Renderer = Callable[[Request, PinholeError], Response]


class InternalError(PinholeError):
    status = 500
    code = "internal_error"


def from_validation_error(exc: RequestValidationError) -> InvalidInput:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "Invalid request."))
    return InvalidInput(f"{field}: {message}" if field else message, field=field)


CLIENT_ERRORS: dict[int, type[PinholeError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
}


def from_http_exception(exc: HTTPException) -> PinholeError:
    """An `HTTPException` raised by the framework while it reads the request (FastAPI raises a 400 for a body it
    cannot decode, e.g. JSON that is not UTF-8): the client's error, in the API's own shape. Any other 4xx status
    without a typed error of its own becomes a 400."""
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "The request could not be read."
    return CLIENT_ERRORS.get(exc.status_code, InvalidInput)(message)


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`


def is_database_busy(exc: Exception) -> bool:
    """The pool had no free connection in time, or PostgreSQL cancelled a statement past `statement_timeout`:
    load, not a bug, so 503 with Retry-After rather than 500."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, sqlalchemy.exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED


def render_with_headers(request: Request, error: PinholeError, render: Renderer) -> Response:
    record_error(error.code)
    response = render(request, error)
    response.headers.update(error.response_headers())
    return response


def route_class(render: Renderer) -> type[APIRoute]:
    class DialectRoute(APIRoute):
        render_error = staticmethod(render)  # read by `api.answers` for the statuses this API answers

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                response = await respond(request)
                caching.finish(response)
                ratelimit.add_headers(request, response)
                return response

            async def respond(request: Request) -> Response:
                try:
                    return await handler(request)
                except PinholeError as error:
                    error = await ratelimit.count_failure(request, error)
                    return render_with_headers(request, error, render)
                except RequestValidationError as exc:
                    return render_with_headers(request, from_validation_error(exc), render)
                except HTTPException as exc:
                    if exc.status_code >= 500:
                        raise
                    return render_with_headers(request, from_http_exception(exc), render)
                except Exception as exc:
                    if is_database_busy(exc):
                        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
                        return render_with_headers(request, DatabaseBusy(), render)
                    log.exception("unhandled error on %s %s", request.method, request.url.path)
                    record_error(InternalError.code)
                    return render(request, InternalError("Something went wrong on our side."))

            return handle

    return DialectRoute


def http_exception_handler(prefixes: list[tuple[str, Renderer]]) -> Callable[[Request, Exception], Response]:
    """Unknown paths and methods (raised by the router, before any route) answer in the shape of the API
    whose prefix the path falls under; the longest prefix wins."""
    ordered = sorted(prefixes, key=lambda item: len(item[0]), reverse=True)

    def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error: PinholeError
        if exc.status_code == 405:
            error = MethodNotAllowed("This method is not allowed here.")
        elif exc.status_code == 404:
            error = NotFound("No such endpoint.")
        else:
            error = InternalError(str(exc.detail)) if exc.status_code >= 500 else InvalidInput(str(exc.detail))
        path = request.url.path
        for prefix, render in ordered:
            if path == prefix or path.startswith(prefix + "/") or not prefix:
                response = render(request, error)
                response.status_code = exc.status_code
                response.headers.update(exc.headers or {})
                return response
        return Response(str(exc.detail), status_code=exc.status_code, headers=exc.headers)

    return handle
