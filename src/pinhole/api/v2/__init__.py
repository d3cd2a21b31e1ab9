"""The native v2 API (`../shared/seeds/002_2e003a54cbf37e70.txt`): images, share links and status.

Choices where the document is silent are listed here for images, accounts and keys; the routes of albums, avatars,
groups, tags, statistics and the admin API list theirs in their own modules' docstrings.
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
- Admin portal sign-in (`/admin/auth/...`): the same JSON as pinhole's own account API (`/auth/...`):
  `{"login" | "username" | "email", "password"}` gives `{accessToken, refreshToken, tokenType: "Bearer", expiresIn,
  refreshExpiresAt, user}`; refresh takes `{refreshToken}`. A non-admin with the right password gets 403 `forbidden`
  (the password was right, so nothing is given away, and the same account may sign in at `/auth/login`); a wrong
  password, an unknown or suspended account all get the one 401 `unauthorized`. Refreshing an admin-portal session
  of an account that is no longer an admin is 403 and leaves the token unused.
- A refresh token presented a second time is 401 `token_reused` and ends its session (every token of it).
- Logout (204) ends the session named by `{"refreshToken"}` in the body (any token of it, current or rotated; the
  `Authorization` header is then not read, so an expired access token does not stand in the way), else the session
  of the bearer access token. An unknown refresh token is 204 too.
- `me/change-password` takes `{currentPassword, newPassword}`, answers 204 and ends every other session of the
  account; a wrong current password is 401 and counts toward the sign-in back-off; a weak new one is 400
  `weak_password` with the rule in the message.
- Sign-in failures back off per account and per address: 429 `login_throttled` with `Retry-After`.
- Browser sessions (`/auth/session`): POST signs in and sets the cookie, GET gives the user and CSRF token again,
  `POST /auth/session/refresh` rotates both (needs `X-CSRF-Token`), DELETE signs out (needs `X-CSRF-Token`) and
  clears the cookie. A cookie request that changes state without the right token is 403 `csrf_failed`.
- Signed transform URLs (`signing.mode`, docs/security.md): with `anonymous`, anonymous transforms need `sig` (and
  `exp` when the URL expires) from `POST /v2/images/{id}/sign` (owner only); with `all`, everyone but the owner
  does. The original (no options), share links and a share `token` never do. `sig`/`exp` are not options: they do
  not change the variant. A missing, bad, expired or unknown-key signature answers the 403 JSON error
  (`missing_signature`, `invalid_signature`, `expired_signature`, `unknown_signing_key`; `Cache-Control: no-store`),
  not the fallback image: it is checked only after the caller may see the image (whose original is one unsigned
  request away), so it reveals nothing; missing and inaccessible images still get the fallback whatever the
  signature. An API client needs the code to re-sign; in an `<img>` a broken image says the URL is wrong where a
  placeholder would hide it. An expiring signed answer is cached (`max-age`) no longer than it stays valid.
- Keys (`/v2/account/keys`, `/v2/account/upload-keys`) are managed only by a signed-in account (access token or
  browser session), never with an `sk_` or upload key; another account's key id answers 404. Key lists are
  `{"data": [...]}` and never include keys; `expiresAt` must carry a time zone.
- Upload keys may only upload (`POST /v2/images`, owned by their account in the accounts tenant); listing with one
  answers 403. The ShareX config (`GET .../upload-keys/{id}/sharex`) can be fetched again: the key is re-derived.
- Guest uploads (`accounts.guest_uploads`, off by default; admins may switch it at run time, docs/admin.md):
  `POST /v2/images` without credentials stores a public, ownerless image in the accounts tenant; `isPrivate=true`
  is refused with 400 rather than silently ignored. Only admins can change or delete such images.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.ratelimit import rate_limits
from pinhole.api.v2 import admin, albums, avatars, browser, groups, images, keys, sessions, signing, stats, status, tags
from pinhole.api.v2.auth import identify_caller
from pinhole.api.v2.errors import ERROR_RESPONSES, render_error
from pinhole.uploads import tus_routes

__all__ = ["API_NAME", "DIALECT", "build_router", "render_error"]

API_NAME = "v2"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(status.router)
    router.include_router(images.router)
    router.include_router(tus_routes.router)
    router.include_router(sessions.build_token_router(prefix="/auth", admin=False))
    router.include_router(sessions.build_token_router(prefix="/admin/auth", admin=True))
    router.include_router(browser.router)
    router.include_router(signing.router)
    router.include_router(keys.router)
    router.include_router(albums.router)
    router.include_router(groups.router)
    router.include_router(tags.router)
    router.include_router(avatars.router)
    router.include_router(stats.router)
    router.include_router(admin.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The native pinhole API: images, albums, avatars, accounts, keys and administration.",
    build_router=build_router,
    render_error=render_error,
)
