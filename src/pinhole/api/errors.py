"""Turning typed errors into responses, once per API dialect.

Each dialect routes through a `route_class` made here with its own renderer, so the same `PinholeError`
comes out in each API's documented shape. Unexpected exceptions are logged and become a generic 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from pinhole.errors import InvalidInput, Overloaded, PinholeError

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


def render_with_headers(request: Request, error: PinholeError, render: Renderer) -> Response:
    response = render(request, error)
    if isinstance(error, Overloaded):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def route_class(render: Renderer) -> type[APIRoute]:
    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except PinholeError as error:
                    return render_with_headers(request, error, render)
                except RequestValidationError as exc:
                    return render_with_headers(request, from_validation_error(exc), render)
                except Exception:
                    log.exception("unhandled error on %s %s", request.method, request.url.path)
                    return render(request, InternalError("Something went wrong on our side."))

            return handle

    return DialectRoute
