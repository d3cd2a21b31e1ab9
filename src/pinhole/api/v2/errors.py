"""The v2 error shape: `{"error": {"code", "message", "status", "field"}}`."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.errors import route_class
from pinhole.api.v2.schemas import ErrorBody, ErrorResponse
from pinhole.errors import PinholeError


def render_error(request: Request, error: PinholeError) -> Response:
    body = ErrorResponse(
        error=ErrorBody(code=error.code, message=error.message, status=error.status, field=error.field)
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=error.status)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Invalid request",
        401: "Missing or invalid X-API-Key",
        403: "Not allowed",
        404: "Not found",
        413: "File too large",
        415: "Not an accepted image format",
        422: "Corrupt image, or over the pixel or frame limit",
        503: "Busy: retry after the Retry-After seconds",
    }.items()
}


V2Route = route_class(render_error)
