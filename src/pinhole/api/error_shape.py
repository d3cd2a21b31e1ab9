"""pinhole's own JSON error shape, `{"error": {"code", "message", "status", "field"}}` (plus `details` when the
error has more to say): v2's, and that of APIs whose documents define none."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from pinhole.api.schemas import Schema
from pinhole.errors import PinholeError


class ErrorBody(Schema):
    code: str = Field(description="Stable machine-readable code.", examples=["image_not_found"])
    message: str = Field(description="What went wrong, for people.")
    status: int = Field(examples=[404])
    field: str | None = Field(default=None, description="The request field at fault, when there is one.")
    details: dict[str, Any] | None = Field(
        default=None, description="More about the error when there is more, e.g. the limit that was passed."
    )


class ErrorResponse(Schema):
    error: ErrorBody


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
