"""Signing in to the uploadkey API: pinhole's browser sessions (`api.browser_sessions`) at the API's own paths."""

from __future__ import annotations

from pinhole.api.browser_sessions import SessionRoute, SessionRoutes, build_browser_session_router
from pinhole.dialects.uploadkey.auth import CSRF
from pinhole.dialects.uploadkey.errors import UploadkeyRoute
from pinhole.dialects.uploadkey.schemas import Message

ROUTES = SessionRoutes(
    login=SessionRoute("POST", "/login", "auth.login", "Sign in: set the session cookie, get the CSRF token"),
    read=SessionRoute("GET", "/session", "auth.session", "The signed-in account and the session's CSRF token"),
    refresh=SessionRoute(
        "POST", "/refresh", "auth.refresh", "Rotate the session cookie and its CSRF token", dependencies=[CSRF]
    ),
    logout=SessionRoute("POST", "/logout", "auth.logout", "Sign out: end the session", dependencies=[CSRF]),
    logout_status=200,
    logged_out=lambda: Message(message="Logged out"),
)

router = build_browser_session_router(ROUTES, prefix="/api", tags=["uploadkey"], route_class=UploadkeyRoute)
