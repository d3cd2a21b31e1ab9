"""The slink error shape: `{"error": {"title", "message", "violations": [{"property", "message"}]}}`.

Validation failures (bad input, a file too large, a type not allowed, a corrupt or oversized image) answer 422
with the document's title, "Validation Error" and one violation naming the field; the two upload refusals the
document shows keep its exact sentences. Every other failure keeps pinhole's status, with its message and no
violations (401 not signed in, 403 not allowed, 404 no such image, 429 rate limited, 503 overloaded).
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.errors import route_class
from pinhole.dialects.slink.schemas import SlinkErrorBody, SlinkErrorResponse, Violation
from pinhole.errors import (
    CorruptImage,
    ImageTooLarge,
    InvalidInput,
    PayloadTooLarge,
    PinholeError,
    TooManyFrames,
    UnsupportedImageFormat,
)

TITLE = "Symfony.Component.HttpKernel.Exception.HttpException"
VALIDATION = "Validation Error"
MB = 1024 * 1024
# The document's order first; any other format the server accepts follows.
DOCUMENT_MIME_ORDER = ("image/jpeg", "image/png", "image/webp", "image/gif")


def megabytes(size: int) -> str:
    """`2.14 MB`, `1 MB`: two decimals at most, trailing zeros dropped, as the document writes sizes."""
    return f"{size / MB:.2f}".rstrip("0").rstrip(".") + " MB"


class FileTooLarge(InvalidInput):
    code = "file_too_large"

    def __init__(self, *, size: int | None, limit: int, more_than: int | None = None) -> None:
        """`size`: the file's real size; when unknown, it is more than `more_than` (or the limit)."""
        shown = megabytes(size) if size is not None else f"more than {megabytes(more_than or limit)}"
        super().__init__(
            f"The file is too large ({shown}). Allowed maximum size is {megabytes(limit)}.",
            field="image",
            details={"size": size, "limit": limit},
        )


def order_mimes(mimes: set[str]) -> list[str]:
    return [m for m in DOCUMENT_MIME_ORDER if m in mimes] + sorted(mimes.difference(DOCUMENT_MIME_ORDER))


class InvalidMimeType(InvalidInput):
    code = "invalid_mime_type"

    def __init__(self, *, given: str, allowed: list[str]) -> None:
        listed = ", ".join(f'"{mime}"' for mime in allowed)
        super().__init__(
            f'The mime type of the file is invalid ("{given}"). Allowed mime types are {listed}.', field="image"
        )


class MissingImage(InvalidInput):
    code = "missing_image"

    def __init__(self) -> None:
        super().__init__("This value should not be null: send the file in the `image` form field.", field="image")


# Refusals that are validation errors in this API: 422 with a violation.
_VALIDATION: tuple[type[PinholeError], ...] = (
    InvalidInput,
    PayloadTooLarge,
    UnsupportedImageFormat,
    CorruptImage,
    ImageTooLarge,
    TooManyFrames,
)


def describe(error: PinholeError) -> tuple[int, SlinkErrorBody]:
    if isinstance(error, _VALIDATION):
        violation = Violation(property=error.field or "request", message=error.message)
        return 422, SlinkErrorBody(title=TITLE, message=VALIDATION, violations=[violation])
    return error.status, SlinkErrorBody(title=TITLE, message=error.message)


def render_error(request: Request, error: PinholeError) -> Response:
    status, body = describe(error)
    return JSONResponse(SlinkErrorResponse(error=body).model_dump(), status_code=status)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": SlinkErrorResponse, "description": text}
    for status, text in {
        401: "Not signed in, or the token or API key is not valid",
        403: "Not allowed (guest uploads off, someone else's image, preserveOnDisk without admin rights)",
        404: "No such image (or not yours to see)",
        422: "Validation Error: `violations` names each property and what is wrong with it",
        429: "Rate limited: retry after the Retry-After seconds",
    }.items()
}

SlinkRoute = route_class(render_error)
