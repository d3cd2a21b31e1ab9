"""The userimages API (`../shared/seeds/000_d27f08c96690f814.txt`): a client's users' images under
`/api/users/user/{userId}/images` (upload of 1-4 files as a group, list, get, update, delete, group routes).

Choices where the document is vague or silent (docs/apis.md has them too):
- Authentication (the document shows none): the client's API key, `X-API-Key` or `Authorization: Bearer`. `userId`
  is an external user of that client, exactly like v2's `X-User-Id`: uploads are owned by it and show in the
  client's v2 listing. Account credentials (access tokens, `sk_` and upload keys) are 401: accounts have no client
  users. With `dialects.userimages.require_key=false`, requests without a key act for the users of the client named
  by `dialects.userimages.default_client` (start-up refuses the setting without it; a missing or inactive client
  answers 401); a key, when sent, still decides.
- Scope: every route is narrowed to `userId`'s images and groups; another user's (or another client's, or an
  image without an owner) is 404, never 403, so ids cannot be probed.
- `_id` is pinhole's image id (a UUID). `key` is `<_id>.<ext>` (jpg, png, webp), `url` the image's v2 URL
  (`{v2 prefix}/images/{_id}`), served by the v2 delivery code with its transforms; both derive from the image
  the record answers for (itself, or the one a PUT named). What a URL serves never changes (public answers say
  immutable for a year). `createdAt` is epoch milliseconds. `userId` is the path's user.
- Upload: `file` parts only, 1-4 (a fifth is 400 `invalid_input`, none is 400 too); JPEG, PNG and WebP decided from
  the bytes (others 415 `unsupported_format`, corrupt 422), also when the server accepts more elsewhere. All files
  are stored or none. `groupId` is the upload group of a multi-file upload and null for a single file (the document:
  "Group ID returned when uploading multiple images"). The answer is 200, as documented.
- List: the document's array of JSON-encoded strings (`json.dumps(record, indent=1)`: `{\\n "_id": ...}`), every
  image of the user, newest first, no paging (the document has none).
- PUT `url`/`key` is the document's update flow ("upload the new image, then update the record with the new URL"):
  when they name ANOTHER image of the same user (its `url` or `key` exactly as this API answered them), the record
  answers that image's `url` and `key` from then on (in the PUT's answer, its GET, the list and its group); it keeps
  its `_id`, `groupId` and `createdAt` (`services.images.point_record`). No bytes move: the old URL keeps serving
  the old image (public answers are immutable for a year, so a URL must never change what it serves) until the
  record is deleted, and the other record stays (deleting it makes this record answer its own url again). Naming
  the record's own url/key points it back at itself; restating its current values is a no-op 200. Anything else
  (an external URL, another user's image, something that is no image's url/key) is 400 `invalid_input` naming the
  field; `url` and `key` of different images is 400 naming `key`. Step 1 of the document's flow ("delete old
  image") must not be a DELETE of the record itself here: that deletes the record.
- DELETE answers `{"success": true, "deletedId"}`; the file goes when no other image shares it.
- Groups: GET and PUT answer `{"success", "groupId", "userId", "name", "description", "images": [records]}`; PUT's
  "group metadata" is the upload group's `name` and `description` (an empty string clears one); DELETE removes the
  group and all its images and answers `{"success": true, "deletedGroupId", "deletedIds"}`.
- Rate limit: the rule `userimages` (10/minute by default, `rate_limits.rules`; route scopes `userimages.<route>`,
  e.g. `userimages.upload`, override it), counted per user of a client (`apikey:<client>:user:<userId>`); 429 with
  `Retry-After` and `X-RateLimit-*`.
- Errors (the document shows none): pinhole's `{"error": {"code", "message", "status", "field"}}` with its statuses;
  unknown paths under `/api/users` answer in that shape.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.userimages import routes
from pinhole.dialects.userimages.auth import rate_caller, rate_key
from pinhole.dialects.userimages.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "userimages"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=rate_caller, key=rate_key)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(routes.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The userimages API: a client's users' images (uploads of up to 4 files as a group) by user id.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/api/users",),
)
