"""Shared caches must never hand one caller's answer to another (docs/security.md, "Caching").

Every API answer passes through `finish` (the dialect route class calls it): an answer without a Cache-Control of
its own gets `no-store`, and every answer that is not `public` varies on the credential headers. `public` is kept
only where a route decided its answer is the same for everyone (public image bytes).
"""

from __future__ import annotations

from starlette.responses import Response

CREDENTIAL_HEADERS = ("Authorization", "X-API-Key", "X-Upload-Key", "X-User-Id", "Cookie")


def finish(response: Response) -> None:
    cache = response.headers.get("cache-control")
    if cache is None:
        response.headers["Cache-Control"] = "no-store"
    elif "public" in cache.lower():
        return
    add_vary(response, CREDENTIAL_HEADERS)


def add_vary(response: Response, names: tuple[str, ...]) -> None:
    present = [part.strip() for part in response.headers.get("vary", "").split(",") if part.strip()]
    known = {part.lower() for part in present}
    if "*" in known:
        return
    merged = present + [name for name in names if name.lower() not in known]
    response.headers["Vary"] = ", ".join(merged)
