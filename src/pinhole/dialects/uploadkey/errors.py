"""The uploadkey error shape: `{"error": "<message>"}`, with the document's status codes.

The document answers every upload refusal with 400, so pinhole's 413 (file too large), 415 (type not allowed),
422 (corrupt or oversized image) and 403 `quota_exceeded` become 400 here, their message starting with which of
them it was. 403 is kept for a bad CSRF token; any other refusal of an image the caller can see but not change
is 404, as for images it cannot see. Rate limits (429) and back-pressure (503) keep their status and Retry-After.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pinhole.api.errors import route_class
from pinhole.errors import (
    CorruptImage,
    CsrfFailed,
    Forbidden,
    ImageNotFound,
    ImageTooLarge,
    InvalidInput,
    InvalidTransform,
    PayloadTooLarge,
    PinholeError,
    QuotaExceeded,
    TooManyFrames,
    UnsupportedImageFormat,
)

# Checked in order: the first class the error is an instance of gives the 400 message's opening words.
_AS_BAD_REQUEST: tuple[tuple[type[PinholeError], str], ...] = (
    (PayloadTooLarge, "File too large"),
    (UnsupportedImageFormat, "File type not allowed"),
    (QuotaExceeded, "Storage limit reached"),
    (CorruptImage, "Invalid request"),
    (ImageTooLarge, "Invalid request"),
    (TooManyFrames, "Invalid request"),
    (InvalidTransform, "Invalid request"),
    (InvalidInput, "Invalid request"),
)


class UploadkeyError(BaseModel):
    error: str = Field(description="What went wrong, for people.", examples=["File too large: ..."])


def translate(error: PinholeError) -> tuple[int, str]:
    """The status and message this API answers `error` with."""
    for kind, opening in _AS_BAD_REQUEST:
        if isinstance(error, kind):
            return 400, f"{opening}: {error.message}"
    if isinstance(error, CsrfFailed):
        return 403, "Invalid CSRF token: send the token from login or refresh in the X-CSRF-Token header."
    if isinstance(error, Forbidden):
        return 404, ImageNotFound().message
    return error.status, error.message


def render_error(request: Request, error: PinholeError) -> Response:
    status, message = translate(error)
    return JSONResponse(UploadkeyError(error=message).model_dump(), status_code=status)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": UploadkeyError, "description": text}
    for status, text in {
        400: "Invalid request, file too large, file type not allowed or storage limit reached (the message says)",
        401: "Not authenticated",
        403: "Invalid CSRF token",
        404: "Image not found (or invalid key)",
        429: "Rate limited: retry after the Retry-After seconds",
        500: "Internal server error",
    }.items()
}

UploadkeyRoute = route_class(render_error)
