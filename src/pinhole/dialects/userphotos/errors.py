"""The userphotos error shape: `{"success": false, "error": {"code", "message", "details"}}`.

The document's six codes keep its statuses and wording (`message` is the document's sentence, `details` says what
exactly was wrong); every other failure keeps pinhole's status with its code in the document's style
(upper-case), e.g. 403 `QUOTA_EXCEEDED`, 422 `IMAGE_TOO_LARGE`, 400 `INVALID_TRANSFORM`, 503 `OVERLOADED`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.errors import route_class
from pinhole.dialects.userphotos.schemas import UserphotosErrorBody, UserphotosErrorResponse
from pinhole.errors import (
    CorruptImage,
    ImageNotFound,
    InvalidInput,
    PayloadTooLarge,
    PinholeError,
    RateLimited,
    Unauthorized,
    UnsupportedImageFormat,
)


class MissingUserId(InvalidInput):
    code = "missing_user_id"

    def __init__(self, message: str = "Send the user_id form field: it names whose image this is.") -> None:
        super().__init__(message, field="user_id")


class InvalidUserId(InvalidInput):
    code = "invalid_user_id"


class MissingImage(InvalidInput):
    """No file in the `image` field: the document's INVALID_IMAGE_FORMAT (there is no valid image)."""

    code = "missing_image"

    def __init__(self, message: str = "Send the image file in the `image` form field.") -> None:
        super().__init__(message, field="image")


@dataclass(frozen=True)
class Documented:
    code: str
    status: int
    message: str
    details: str | None = None  # fixed text; None: the error's own message says what was wrong


FORMATS = "Only JPEG, PNG, and WebP files are supported"
INVALID_API_KEY = Documented("INVALID_API_KEY", 401, "Missing or invalid API key in Authorization header")
INVALID_IMAGE_FORMAT = Documented("INVALID_IMAGE_FORMAT", 400, "The uploaded file is not a valid image format", FORMATS)

# Most specific first: the first class the error is an instance of decides.
DOCUMENTED: tuple[tuple[type[PinholeError], Documented], ...] = (
    (Unauthorized, INVALID_API_KEY),
    (MissingUserId, Documented("MISSING_USER_ID", 400, "user_id parameter is required for all uploads")),
    (MissingImage, Documented(INVALID_IMAGE_FORMAT.code, 400, INVALID_IMAGE_FORMAT.message)),
    (UnsupportedImageFormat, INVALID_IMAGE_FORMAT),
    (CorruptImage, INVALID_IMAGE_FORMAT),
    (PayloadTooLarge, Documented("FILE_TOO_LARGE", 413, "Image file exceeds the size limit")),
    (RateLimited, Documented("RATE_LIMIT_EXCEEDED", 429, "You've exceeded your plan's rate limits")),
    (ImageNotFound, Documented("IMAGE_NOT_FOUND", 404, "The requested image does not exist or has been deleted")),
)


def describe(error: PinholeError) -> tuple[int, UserphotosErrorBody]:
    """The status and error body userphotos answers `error` with."""
    for kind, documented in DOCUMENTED:
        if isinstance(error, kind):
            details = documented.details or error.message
            return documented.status, UserphotosErrorBody(
                code=documented.code, message=documented.message, details=details
            )
    hint = f"Field: {error.field}" if error.field else None
    return error.status, UserphotosErrorBody(code=error.code.upper(), message=error.message, details=hint)


def render_error(request: Request, error: PinholeError) -> Response:
    status, body = describe(error)
    return JSONResponse(UserphotosErrorResponse(error=body).model_dump(), status_code=status)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": UserphotosErrorResponse, "description": text}
    for status, text in {
        400: "MISSING_USER_ID, INVALID_IMAGE_FORMAT, INVALID_USER_ID, INVALID_TRANSFORM or INVALID_INPUT",
        401: "INVALID_API_KEY",
        403: "QUOTA_EXCEEDED, or a transform that needs a URL signature",
        404: "IMAGE_NOT_FOUND",
        413: "FILE_TOO_LARGE",
        422: "IMAGE_TOO_LARGE or TOO_MANY_FRAMES",
        429: "RATE_LIMIT_EXCEEDED (see Retry-After)",
        503: "OVERLOADED or STORAGE_UNAVAILABLE (see Retry-After)",
    }.items()
}

UserphotosRoute = route_class(render_error)
