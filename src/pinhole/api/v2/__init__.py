"""The native v2 API (`../shared/seeds/002_2e003a54cbf37e70.txt`): images, share links and status.

Choices where the document is silent:
- Serving (`GET /v2/images/{id}`) needs no key for public images, so `<img src>` works; private images need the
  owner's X-API-Key + X-User-Id or a share `token`. Missing and inaccessible images get the same fallback WebP
  (200, `no-store`, `X-Pinhole-Fallback: 1`) so ids cannot be probed; `?info=true` answers 404 JSON for both.
- Metadata (`?info=true`) is for the owning client (or a token holder), even for public images.
- Images uploaded without X-User-Id belong to the client as a whole; with it, only that user may change them.
- Tags are trimmed, lower-cased and de-duplicated; upload accepts repeated `tags` fields, a JSON array or commas.
- DELETE answers 204; share links are revoked with `DELETE /v2/images/{id}/share/{token}` (not in the document).
- Errors: `{"error": {"code", "message", "status", "field"}}`, with stable codes.
- Keys (`/v2/account/keys`, `/v2/account/upload-keys`) are managed only by a signed-in account (access token or
  browser session), never with an `sk_` or upload key; another account's key id answers 404. Key lists are
  `{"data": [...]}` and never include keys; `expiresAt` must carry a time zone.
- Upload keys may only upload (`POST /v2/images`, owned by their account in the accounts tenant); listing with one
  answers 403. The ShareX config (`GET .../upload-keys/{id}/sharex`) can be fetched again: the key is re-derived.
- Guest uploads (`accounts.guest_uploads`, off by default): `POST /v2/images` without credentials stores a
  public, ownerless image in the accounts tenant; `isPrivate=true` is refused with 400 rather than silently
  ignored. Only admins can change or delete such images.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.v2 import images, keys, status
from pinhole.api.v2.errors import ERROR_RESPONSES, render_error

__all__ = ["build_router", "render_error"]


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES)
    router.include_router(status.router)
    router.include_router(images.router)
    router.include_router(keys.router)
    return router
