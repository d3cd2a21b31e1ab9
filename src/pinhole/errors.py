"""Typed errors: each carries its HTTP status, a stable machine code and a public message.

Services and image steps raise these; every API dialect renders them in its own documented shape
in one place (its exception handler). Internal detail goes to the log, never into `message`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PinholeError(Exception):
    """Base of every error a client may see."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def response_headers(self) -> dict[str, str]:
        """Headers every API sends with this error, whatever its body shape (e.g. Retry-After)."""
        retry_after = getattr(self, "retry_after", None)
        return {"Retry-After": str(retry_after)} if retry_after is not None else {}


class InvalidInput(PinholeError):
    status = 400
    code = "invalid_input"


class Unauthorized(PinholeError):
    status = 401
    code = "unauthorized"


class Forbidden(PinholeError):
    status = 403
    code = "forbidden"


class NotFound(PinholeError):
    status = 404
    code = "not_found"


class ImageNotFound(NotFound):
    code = "image_not_found"

    def __init__(self, message: str = "Image not found.", **kwargs: Any):
        super().__init__(message, **kwargs)


class MissingApiKey(Unauthorized):
    code = "missing_api_key"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class SessionExpired(Unauthorized):
    """A refresh token, session cookie or access token that no longer opens a live session."""

    code = "session_expired"

    def __init__(self, message: str = "The session has ended; sign in again.", **kwargs: Any):
        super().__init__(message, **kwargs)


class TokenReused(Unauthorized):
    """A refresh token (or session cookie) that was already rotated: the whole session has been revoked."""

    code = "token_reused"

    def __init__(self, message: str = "This token was already used; the session is revoked. Sign in again."):
        super().__init__(message)


class CsrfFailed(Forbidden):
    """A cookie-authenticated state-changing request without the session's CSRF token."""

    code = "csrf_failed"

    def __init__(self, message: str = "Missing or invalid CSRF token (send it in X-CSRF-Token).", **kwargs: Any):
        super().__init__(message, field="X-CSRF-Token", **kwargs)


class MethodNotAllowed(PinholeError):
    status = 405
    code = "method_not_allowed"


class Conflict(PinholeError):
    status = 409
    code = "conflict"


class PayloadTooLarge(PinholeError):
    """The request body (or one file in it) is over the byte limit."""

    status = 413
    code = "file_too_large"


class QuotaExceeded(PinholeError):
    """One more image would pass a storage quota; `details` names the quota, its limit and what is used."""

    status = 403
    code = "quota_exceeded"

    def __init__(self, message: str, *, quota: str, limit: int, used: int, requested: int):
        super().__init__(message, details={"quota": quota, "limit": limit, "used": used, "requested": requested})
        self.quota = quota


class UnsupportedImageFormat(PinholeError):
    """The bytes are not an image of an accepted format (decided from the bytes, never the name)."""

    status = 415
    code = "unsupported_format"


class CorruptImage(PinholeError):
    """The bytes claim to be an image but are truncated, undecodable or carry foreign data."""

    status = 422
    code = "corrupt_image"


class ImageTooLarge(PinholeError):
    """Width x height (or the output size asked for) is over the pixel limit."""

    status = 422
    code = "image_too_large"


class TooManyFrames(PinholeError):
    status = 422
    code = "too_many_frames"


class InvalidTransform(PinholeError):
    """A transform option (w, h, q, format, fit...) is malformed or out of range."""

    status = 400
    code = "invalid_transform"


class Overloaded(PinholeError):
    """The image worker queue is full: back-pressure instead of running out of memory."""

    status = 503
    code = "overloaded"

    def __init__(self, message: str = "The server is busy; retry shortly.", *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseBusy(PinholeError):
    """No database connection came free in time, or the server cancelled a statement that ran too long."""

    status = 503
    code = "database_busy"

    def __init__(self, message: str = "The database is busy; retry shortly.", *, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after


class StorageError(PinholeError):
    """The blob store failed; the message is generic, the cause is logged."""

    status = 503
    code = "storage_unavailable"


class BlobNotFound(StorageError):
    status = 404
    code = "blob_not_found"


class RateLimited(PinholeError):
    """Too many requests for this caller and route; `headers` are the X-RateLimit-* and Retry-After to send."""

    status = 429
    code = "rate_limited"

    def __init__(
        self,
        message: str = "Too many requests; retry later.",
        *,
        retry_after: int,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = headers or {"Retry-After": str(retry_after)}

    def response_headers(self) -> dict[str, str]:
        return dict(self.headers)


class InvalidSignature(PinholeError):
    """A transform URL that must be signed is not validly signed; subclasses say why."""

    status = 403
    code = "invalid_signature"

    def __init__(self, message: str = "The URL signature is invalid.", *, field: str = "sig", **kwargs: Any):
        super().__init__(message, field=field, **kwargs)

    def response_headers(self) -> dict[str, str]:
        # A cache in front must not keep the refusal: the same URL may be fine for the owner, or after a key change.
        return {"Cache-Control": "no-store"}


class MissingSignature(InvalidSignature):
    code = "missing_signature"

    def __init__(self, message: str = "This URL must be signed.", **kwargs: Any):
        super().__init__(message, **kwargs)


class ExpiredSignature(InvalidSignature):
    code = "expired_signature"

    def __init__(self, message: str = "The URL signature has expired.", **kwargs: Any):
        super().__init__(message, **kwargs)


class UnknownSigningKey(InvalidSignature):
    code = "unknown_signing_key"

    def __init__(self, message: str = "The URL was signed with a key this server does not know.", **kwargs: Any):
        super().__init__(message, **kwargs)


class WeakPassword(PinholeError):
    """A new password breaks the password policy; `details["rule"]` names the rule."""

    status = 400
    code = "weak_password"

    def __init__(self, message: str, *, rule: str, **details: Any):
        super().__init__(message, field="password", details={"rule": rule, **details})
        self.rule = rule


class LoginThrottled(PinholeError):
    """Too many failed sign-ins for this account or address: back off for `retry_after` seconds."""

    status = 429
    code = "login_throttled"

    def __init__(self, message: str = "Too many failed sign-in attempts; retry later.", *, retry_after: int):
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class MissingUserId(InvalidInput):
    """Album operations of a client key act for one of its users (the v2 API document: X-User-Id is required)."""

    code = "missing_user_id"


class AlbumNotFound(NotFound):
    code = "album_not_found"


class UploadGone(PinholeError):
    """A resumable upload that expired (or was ended) and whose bytes are gone."""

    status = 410
    code = "upload_gone"


class OffsetMismatch(Conflict):
    """A resumable upload's PATCH whose `Upload-Offset` is not the number of bytes already received."""

    code = "offset_mismatch"


class ChecksumMismatch(PinholeError):
    """The bytes of a tus PATCH do not match its `Upload-Checksum` (tus' own status, 460); nothing was kept."""

    status = 460
    code = "checksum_mismatch"


class UnsupportedMediaType(PinholeError):
    status = 415
    code = "unsupported_media_type"


class UnsupportedProtocolVersion(PinholeError):
    """A tus request in a protocol version this server does not speak (tus answers 412 with `Tus-Version`)."""

    status = 412
    code = "unsupported_version"

    def response_headers(self) -> dict[str, str]:
        return {"Tus-Version": "1.0.0"}


class FetchRefused(PinholeError):
    """A URL the fetcher will not fetch: a refused address, scheme, port or too many redirects."""

    status = 400
    code = "url_refused"


class FetchFailed(PinholeError):
    """A URL the fetcher could not fetch: unreachable, too slow, an error status or too large."""

    status = 422
    code = "url_fetch_failed"
