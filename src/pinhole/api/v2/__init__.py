"""The native v2 API (`../shared/seeds/002_2e003a54cbf37e70.txt`): images, share links and status.

Choices where the document is silent:
- Serving (`GET /v2/images/{id}`) needs no key for public images, so `<img src>` works; private images need the
  owner's X-API-Key + X-User-Id or a share `token`. Missing and inaccessible images get the same fallback WebP
  (200, `no-store`, `X-Pinhole-Fallback: 1`) so ids cannot be probed; `?info=true` answers 404 JSON for both.
- Metadata (`?info=true`) is for the owning client (or a token holder), even for public images.
- Images uploaded without X-User-Id belong to the client as a whole; with it, only that user may change them.
- Tags are trimmed, lower-cased and de-duplicated; upload accepts repeated `tags` fields, a JSON array or commas.
- DELETE answers 204; share links are revoked with `DELETE /v2/images/{id}/share/{token}` (not in the document).
- Errors: `{"error": {"code", "message", "status", "field"}}`, with stable codes, plus `details` (an object) when
  the error has more to say, e.g. the limit that was passed.
- Rate limits: each route has a stable name (`images.upload`, `images.list`, `images.serve`, `images.shared`,
  `images.update`, `images.delete`, `images.share`, `images.unshare`, `status`) and `v2.<name>` is its rate-limit
  scope. Limited responses carry `X-RateLimit-Limit/Remaining/Reset` (reset as epoch seconds); refusals are 429
  `rate_limited` with `Retry-After` and `details.retry_after`.
- Quotas: an upload past a storage quota is 403 `quota_exceeded` (not 413, which is about one request's size and
  invites a smaller retry; not 507, which blames the server): retrying cannot help until images are deleted or the
  quota is raised. `details` gives `quota` (`client_bytes`, `client_images`, `user_bytes` or `user_images`),
  `limit`, `used` and `requested`. A file over the client's own size limit is 413 `file_too_large`, as for the
  server-wide one.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.ratelimit import rate_limits
from pinhole.api.v2 import images, status
from pinhole.api.v2.auth import optional_principal
from pinhole.api.v2.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "build_router", "render_error"]

API_NAME = "v2"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=optional_principal)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(status.router)
    router.include_router(images.router)
    return router
