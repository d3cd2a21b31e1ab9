"""Errors as typed exceptions carrying the API's error code (v2's `{"error": {"code", "message", ...}}`)."""

from __future__ import annotations

from typing import Any

import httpx


class PinholeError(Exception):
    """An error answer from pinhole: `status`, the stable `code`, the `message`, the `field` at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}
        self.retry_after = retry_after


class BadRequest(PinholeError):
    """400: the request is invalid (`field` names the culprit)."""


class Unauthorized(PinholeError):
    """401: no or an invalid API key or token."""


class Forbidden(PinholeError):
    """403: not allowed, or a quota is used up (`quota_exceeded`)."""


class NotFound(PinholeError):
    """404: no such thing, or not yours to see."""


class TooLarge(PinholeError):
    """413: the file is larger than the server accepts."""


class UnsupportedFormat(PinholeError):
    """415: not an image format the server accepts."""


class Unprocessable(PinholeError):
    """422: a corrupt image, or over the pixel or frame limit."""


class RateLimited(PinholeError):
    """429: too many requests; `retry_after` says when to try again."""


class Busy(PinholeError):
    """503: the server is busy; `retry_after` says when to try again."""


BY_STATUS: dict[int, type[PinholeError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    413: TooLarge,
    415: UnsupportedFormat,
    422: Unprocessable,
    429: RateLimited,
    503: Busy,
}


def error_from(response: httpx.Response) -> PinholeError:
    """The typed exception for an error answer (the API's code when the body has one)."""
    try:
        body = response.json().get("error", {})
    except (ValueError, AttributeError):
        body = {}
    if not isinstance(body, dict):
        body = {"message": str(body)}
    retry = response.headers.get("Retry-After")
    kind = BY_STATUS.get(response.status_code, PinholeError)
    return kind(
        response.status_code,
        str(body.get("code") or f"http_{response.status_code}"),
        str(body.get("message") or response.reason_phrase),
        field=body.get("field"),
        details=body.get("details"),
        retry_after=float(retry) if retry and retry.replace(".", "", 1).isdigit() else None,
    )
