"""The v2 error shape: `{"error": {"code", "message", "status", "field"}}`."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.errors import route_class
from pinhole.dialects.v2.schemas import ErrorBody, ErrorResponse
from pinhole.errors import PinholeError


def render_error(request: Request, error: PinholeError) -> Response:
    body = ErrorBody(code=error.code, message=error.message, status=error.status, field=error.field)
    if error.details:
        body.details = dict(error.details)
    # exclude_unset: `details` appears only when the error has some; `field` is always set, even to null.
    return JSONResponse(
        ErrorResponse(error=body).model_dump(by_alias=True, exclude_unset=True), status_code=error.status
    )


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Invalid request",
        401: "Missing or invalid X-API-Key",
        403: "Not allowed, or a storage quota is used up (`quota_exceeded`)",
        404: "Not found",
        413: "File too large",
        415: "Not an accepted image format",
        422: "Corrupt image, or over the pixel or frame limit",
        429: "Rate limited: retry after the Retry-After seconds",
        503: "Busy: retry after the Retry-After seconds",
    }.items()
}


V2Route = route_class(render_error)
