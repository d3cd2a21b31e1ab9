"""Browser sessions (`api.browser_sessions`) at `/auth/session`: POST signs in, GET reads, `/refresh` rotates,
DELETE signs out. Every state-changing request with the cookie must send the CSRF token in `X-CSRF-Token`."""

from __future__ import annotations

from pinhole.api.browser_sessions import SessionRoute, SessionRoutes, build_browser_session_router
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.sessions import THROTTLED

ROUTES = SessionRoutes(
    login=SessionRoute("POST", "", "auth.session.create", "Sign in: set the session cookie, get the CSRF token"),
    read=SessionRoute("GET", "", "auth.session.read", "The signed-in account and the session's CSRF token"),
    refresh=SessionRoute("POST", "/refresh", "auth.session.refresh", "Rotate the session cookie and its CSRF token"),
    logout=SessionRoute("DELETE", "", "auth.session.delete", "Sign out: end the session"),
    login_responses=THROTTLED,
)

router = build_browser_session_router(ROUTES, prefix="/auth/session", tags=["v2"], route_class=V2Route)
