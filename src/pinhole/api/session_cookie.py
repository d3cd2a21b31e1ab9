"""The browser session cookie (`pinhole_session`), shared by every API that signs browsers in.

HttpOnly, SameSite=Lax, Path=/, and Secure when the request came over HTTPS (directly or, from a trusted proxy, by
`X-Forwarded-Proto`), so signing in works behind a TLS proxy and on a plain-HTTP LAN. One cookie for every API:
a browser signed in through one is signed in through all of them.
"""

from __future__ import annotations

from fastapi import Request, Response

from pinhole.api.credentials import SESSION_COOKIE
from pinhole.api.proxies import is_https
from pinhole.errors import SessionExpired
from pinhole.runtime import Runtime
from pinhole.services.signin import BrowserSession


def _secure(request: Request, runtime: Runtime) -> bool:
    return is_https(request, runtime.settings.server.trusted_proxies)


def set_session_cookie(response: Response, request: Request, runtime: Runtime, session: BrowserSession) -> None:
    secure = _secure(request, runtime)
    response.set_cookie(
        SESSION_COOKIE, session.cookie, max_age=session.max_age, path="/", secure=secure, httponly=True, samesite="lax"
    )


def clear_session_cookie(response: Response, request: Request, runtime: Runtime) -> None:
    secure = _secure(request, runtime)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def session_cookie(request: Request) -> str:
    """The request's session cookie; 401 `session_expired` without one."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SessionExpired("No browser session: sign in first.")
    return cookie
