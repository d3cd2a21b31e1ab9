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
- Signed transform URLs (`signing.mode`, docs/signing.md): with `anonymous`, anonymous transforms need `sig` (and
  `exp` when the URL expires) from `POST /v2/images/{id}/sign` (owner only); with `all`, everyone but the owner
  does. The original (no options), share links and a share `token` never do. `sig`/`exp` are not options: they do
  not change the variant. A missing, bad, expired or unknown-key signature answers the 403 JSON error
  (`missing_signature`, `invalid_signature`, `expired_signature`, `unknown_signing_key`; `Cache-Control: no-store`),
  not the fallback image: it is checked only after the caller may see the image (whose original is one unsigned
  request away), so it reveals nothing; missing and inaccessible images still get the fallback whatever the
  signature. An API client needs the code to re-sign; in an `<img>` a broken image says the URL is wrong where a
  placeholder would hide it. An expiring signed answer is cached (`max-age`) no longer than it stays valid.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.v2 import images, signing, status
from pinhole.api.v2.errors import ERROR_RESPONSES, render_error

__all__ = ["build_router", "render_error"]


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES)
    router.include_router(status.router)
    router.include_router(images.router)
    router.include_router(signing.router)
    return router
