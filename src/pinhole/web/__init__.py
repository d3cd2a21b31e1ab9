"""The web app: server-rendered pages (Jinja2) for people, over the same services and policy as the APIs.

Choices where the issue is silent:
- Pages live at a few fixed words at the server root (`/`, `/login`, `/logout`, `/signup`, `/upload`, `/images`,
  `/albums`, `/account`, `/admin`, `/static`), so they cannot collide with the APIs (`/v2`, `/api`, `/image`, `/v1`,
  `/img_...`); the collision check at start-up covers them as the server's own routes.
  They are left out of the OpenAPI schema.
- Forms post and redirect (303); each carries the session's CSRF token. Scripts are only for what a form cannot
  do: uploads (XMLHttpRequest to `POST /v2/images` with the cookie and `X-CSRF-Token`, for per-file progress),
  copying, the size/format picker, selecting images and infinite scroll. Everything else works without JavaScript.
- The page routes share the v2 rate limits under the scope `web.<route name>` (the `*` rule unless configured).
- A sign-in refused for a suspended or inactive account says so, but only when the password was right.
- Share-link tokens and new keys are shown once, on the page the form answers with; afterwards a link is listed
  (created, expiry) by the hash of its token, which is also what revoking it names.
- Albums: `/albums/{id}` is the owner's page for whoever may change the album and a read-only page for anyone
  else who may see it (a public album, or a live `?token=`), signed out too. Album tokens are shown once.
- Admin pages (`/admin`, `/admin/clients`, `/admin/users`, `/admin/settings`) answer 403 to accounts that are not
  admins; an admin cannot change their own role or status there. `/admin/settings` switches the run-time settings
  (guest uploads, sign-up; `services.app_settings`), which the sign-in, sign-up and upload pages read per request.
- "My images" appends the next page's tiles as the grid is scrolled (a script over the same "Next page" link that
  works without it). There is no "Previous page": the listing's cursor only goes forward.
"""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.web import account, admin, albums, auth, images, static_files, viewer

__all__ = ["build_router"]


def build_router() -> APIRouter:
    router = APIRouter(dependencies=[rate_limits("web", principal=identify_caller)])
    for part in (static_files, auth, images, viewer, albums, account, admin):
        router.include_router(part.router)
    return router
