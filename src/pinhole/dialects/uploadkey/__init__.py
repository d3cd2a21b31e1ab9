"""The uploadkey API (`../shared/seeds/003_634936a8b52cef59.txt`): a browser uploader with sessions, upload keys
and per-image keys for private images. Mounted at `/uploadkey` by default: its `/api/upload` collides with slink's.

Choices where the document is silent (docs/apis.md says more):
- Sessions are pinhole's browser sessions: `POST /api/login` (`{"login" | "username" | "email", "password"}`) sets
  the `pinhole_session` cookie and answers `{csrfToken, expiresAt, user}`; `GET /api/session` gives them again;
  `POST /api/refresh` rotates cookie and token (needs `X-CSRF-Token`); `POST /api/logout` ends the session
  (`X-CSRF-Token` when a cookie is sent) and clears the cookie: `{"message": "Logged out"}`.
- Upload takes an upload key (`X-Upload-Key: uk_...`, or `Authorization: Bearer uk_...`) or the session cookie with
  `X-CSRF-Token`; other pinhole credentials work too (the authentication step is shared). A form field `key` is not
  read: credentials are checked before the body is. `private=true` keeps the image private; the answer (200) is the
  image, with its `key` when private.
- Per-image keys are an HMAC of the image id under a key derived from the server secret (`services.image_keys`):
  no migration, but no rotation per image either; rotating the server secret changes all of them. `key` accepts
  standard or URL-safe base64, padded or not. The owner (signed in) sees a private image without the key.
- `{ext}` picks the output format: the image's own extension serves the original, another known one converts
  (without a URL signature: the variants of one image are a handful of formats). An unknown one is 404.
- `HEAD /{uuid}.{ext}` and `HEAD /api/proxy/{uuid}.{ext}` answer GET's status and headers with no body and count
  no view.
- `GET /api/list` lists the caller's own images, newest first, `{data, total, page, limit}` (`page`, `limit` up to
  100, default 100). `PATCH /api/images/{id}` with `{"private": bool}` (not in the document) makes an image
  private, answering its key, or public again.
- Errors are `{"error": "<message>"}` with the document's statuses (`errors.py` maps pinhole's own); an upload key
  used for anything but uploading is 401 (it does not authenticate for that); images of others are 404.
- Rate limits: routes are named `auth.login`, `auth.session`, `auth.refresh`, `auth.logout`, `upload`, `delete`,
  `list`, `images.read`, `images.update`, `proxy` and `serve`; `uploadkey.<name>` is the scope.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.uploadkey import images, sessions
from pinhole.dialects.uploadkey.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "uploadkey"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(sessions.router)
    router.include_router(images.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="Browser uploads with sessions and CSRF tokens, upload keys, and per-image keys for private images.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/api",),
)
