"""Small response finishers every API shares."""

from __future__ import annotations

from fastapi import Response


def no_store(response: Response) -> None:
    """Responses that carry tokens must not be kept by any cache (RFC 6749 section 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
