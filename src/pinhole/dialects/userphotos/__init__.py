"""The userphotos API (`../shared/seeds/004_62417d3c0c36f31a.txt`): `POST /v1/upload` and the CDN URL
`GET /{image_id}` with `w`, `h`, `q`, `f`.

Choices where the document is vague or silent (docs/apis.md has them too):
- Authentication: the client's API key as `Authorization: Bearer <key>` (`X-API-Key` works too). Account
  credentials (access tokens, `sk_` and upload keys) are refused with 401 INVALID_API_KEY: `user_id` names an
  external user of a client, so only a client can upload here. The upload is owned by that external user, exactly
  like a v2 upload with `X-User-Id`, and shows in the client's v2 listing; it is public (the URL is a CDN URL).
- Image ids: `img_` + the first 16 hex digits of the image's UUID (no column, no migration), so every pinhole image
  of any API has one. Should two images ever share it (odds about 2^-60), the oldest answers.
- Serving is public for public images. Private images (uploaded through another API) answer 404 IMAGE_NOT_FOUND,
  the same as missing ones, unless the caller sends credentials the policy lets see them. No fallback image: the
  document promises IMAGE_NOT_FOUND.
- `w` or `h` alone keeps the aspect ratio; both crop to fill exactly w x h. Sizes may exceed the original ("set
  width to 200px"), within the server's output limits. `q` defaults to 85 whenever the image is re-encoded (any
  option given); with no option the stored original is sent as is. `f` takes webp, jpg (or jpeg) and png; the
  default is the original's format. Only the document's options exist (no fit, no avif).
- `file_size` and `dimensions` describe the stored image (metadata stripped, orientation applied): what is served.
  `upload_date` is UTC with whole seconds and `Z`. The response status is 200, as documented.
- `user_id`: trimmed, 1-255 printable characters; blank or missing is MISSING_USER_ID, too long INVALID_USER_ID.
- No file in `image` is 400 INVALID_IMAGE_FORMAT (details say to send it); corrupt bytes too. Only JPEG, PNG and
  WebP are taken (decided from the bytes), also when the server accepts more elsewhere.
- The size limit is `dialects.userphotos.max_file_bytes` (10 MB), lowered by the client's own or the server-wide
  limit; the body stops being read once a file passes it.
- Rate limits: scopes `userphotos.upload` and `userphotos.serve` (`off` by default, like v2 serving); 429
  RATE_LIMIT_EXCEEDED carries `Retry-After` and `X-RateLimit-*`.
- Errors: `{"success": false, "error": {"code", "message", "details"}}`; `message` is the document's sentence for
  its codes and `details` says what exactly was wrong. Other failures keep pinhole's status with an upper-case code
  (`errors.py`). Unknown paths under `/v1` answer in this shape; the API claims no other 404 of the server.
- Signed transform URLs (`signing.mode`): anonymous transforms then need `sig`/`exp` like v2's; the
  `thumbnail_url` of an upload comes signed, the original `image_url` never needs a signature.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.userphotos import routes
from pinhole.dialects.userphotos.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "userphotos"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(routes.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The user.photos API: upload a user's avatar with a client API key, serve it resized by URL.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/v1",),
)
