"""The proxies' error answers: a short plain-text body at the status each original uses for that kind of error."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response

from pinhole.errors import PinholeError

StatusOf = Callable[[PinholeError], int]


def plain_renderer(status_of: StatusOf) -> Callable[[Request, PinholeError], Response]:
    def render(request: Request, error: PinholeError) -> Response:
        headers = {"Cache-Control": "no-store", **error.response_headers()}
        return Response(error.message, status_code=status_of(error), media_type="text/plain", headers=headers)

    return render
