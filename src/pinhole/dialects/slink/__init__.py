"""The slink API (`../shared/seeds/001_706dca5535428515.txt`): JWT sign-in, uploads (signed in, guest, `sk_` API
key), serving `/image/{id}.{ext}` with `w`, `h`, `crop`, and managing one's images. Mounted at the server root.

Choices where the document is vague or silent (docs/apis.md has them too):
- Sign-in is pinhole's accounts and API sessions (the same as `/v2/auth`): `POST /api/auth/login` takes `username`
  (a username or an email) or `email`, and `password`, and answers `{access_token, refresh_token, token_type,
  expires_in}`; `POST /api/auth/refresh` takes `{refresh_token}` (rotating: each refresh token works once); `POST
  /api/auth/logout` ends the session of `{refresh_token}`, or of the bearer access token, with 204.
- "JWT" routes take the access token (pinhole's browser session cookie works too, with its CSRF token); `sk_` keys
  are for `/api/external/upload` only, which takes nothing else. Either refusal is 401.
- Guest upload when `PINHOLE_ACCOUNTS__GUEST_UPLOADS` is off: 403 "Guest uploads are disabled on this server.".
  Guest images are public and owned by nobody (`owner: null`); credentials sent to it are not read.
- Uploads take the document's JPEG, PNG, WebP and GIF only (decided from the bytes; fewer if the server accepts
  fewer), also when the server accepts more elsewhere; the 422 lists them in the document's order. The "invalid"
  mime type named is the part's declared Content-Type (pinhole cannot name the type of bytes it does not read as an
  image), `application/octet-stream` when none. The size limit is `dialects.slink.max_file_bytes` (10 MB), lowered
  by the client's or the server's. The size in the message is the file's, counted while reading: past the limit
  nothing more is stored but the file is read on to its end (Content-Length, absent or wrong, plays no part), up
  to 4 times the limit; past that the message says "more than 4x the limit MB" and reading stops.
- `url` and `thumbnailUrl` of an external upload are paths (as documented) under the API's prefix:
  `/api/image/{id}.{ext}` serves the image, `/api/image/{id}_thumbnail.{ext}` a copy fitting 300 x 300.
- `/image/{id}.{ext}`: the image's own extension serves the stored original, another known one converts; an unknown
  one is 404. `w`/`h` resize within the box (never enlarging), `crop=true` with both fills w x h exactly. Private
  images answer 404 unless the caller may see them; signed transforms (`signing.mode`) apply as in v2. `HEAD` on
  both serving routes answers GET's status and headers, no body, and counts no view.
- `fileName` in details is `{id}.{ext}` (as documented); in listings it is the uploaded file's name, or the same
  when none was given. `updatedAt` is null until the image is changed (more than a second after upload).
  `supportsResize`: pinhole can write the format. Timestamps are UTC; `formattedDate` is `Jan 5, 2024` in listings
  and `2025-07-11 22:03:06` in history.
- `GET /api/images/{page}` lists public images of the caller's tenant, newest first (`limit` 1-100, default 10).
  `orderBy`: `attributes.updatedAt` (the default: last changed first; a change is a PATCH of description or
  visibility, or new tags; views are not) or `attributes.createdAt` (newest uploads first); ties by id. `searchBy`
  is `description` or `fileName` (both match either, case-insensitively) or `tag`. With `cursor` the page comes at
  it and `total` is null. Cursors are keyset positions that carry their order and direction: `nextCursor` is null
  on the last page, `prevCursor` (the page before) null on the first; a cursor used with the other `orderBy` is 422.
- `GET /api/images?uuid[]=` answers the images the caller may read, in the order asked, skipping others (<= 100).
- `GET /api/images/history/{page}`: the caller's own images, 12 per page, newest uploads first; it takes `orderBy`
  too (not in the document's history section; default `attributes.createdAt`, as before).
- Request bodies ignore fields the document does not name (a Slink client may send more); wrong types are 422.
- `PATCH /api/image/{id}`: `description` and `isPublic`, both optional; owner only (403 otherwise, 404 if unseen).
- `DELETE /api/image/{id}` with `{"preserveOnDisk": true}` keeps the file on disk for good: the shared delete
  service lets admins only do that (a kept file outlives quotas), so owners get 403 and nothing is deleted.
- Errors: `{"error": {"title", "message", "violations"}}`; validation errors are 422 with violations naming the
  property, everything else keeps pinhole's status with an empty `violations` (`errors.py`). Unknown paths under
  `/api` are not claimed (other APIs at the root share it); slink shapes only its own routes' errors.
- Rate limits: scopes `slink.<route name>`: `auth.login`, `auth.refresh`, `auth.logout`, `upload`, `guest.upload`,
  `external.upload`, `serve`, `serve.file`, `images.detail`, `images.list`, `images.batch`, `images.history`,
  `images.update`, `images.delete`.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.slink import auth, images
from pinhole.dialects.slink.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "slink"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(auth.router)
    router.include_router(images.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The slink API: JWT sign-in, signed-in, guest and API-key uploads, images served by `{id}.{ext}`.",
    build_router=build_router,
    render_error=render_error,
    error_roots=(),
)
