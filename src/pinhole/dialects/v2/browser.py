"""Browser sessions: sign in with a password, get an HttpOnly cookie and the CSRF token that goes with it.

The cookie (`pinhole_session`, `api.session_cookie`) is HttpOnly, SameSite=Lax, Path=/, and Secure over HTTPS.
Every state-changing request with the cookie must send the CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.credentials import CSRF_HEADER, SESSION_COOKIE
from pinhole.api.deps import RuntimeDep, SigninDep, caller_address
from pinhole.api.session_cookie import clear_session_cookie, session_cookie, set_session_cookie
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.session_schemas import AccountPublic, BrowserSessionPublic, LoginRequest
from pinhole.dialects.v2.sessions import THROTTLED, no_store
from pinhole.services import signin
from pinhole.services.signin import BrowserSession

router = APIRouter(prefix="/auth/session", tags=["v2"], route_class=V2Route)


def _public(session: BrowserSession) -> BrowserSessionPublic:
    return BrowserSessionPublic(
        csrf_token=session.csrf_token, expires_at=session.expires_at, user=AccountPublic.of(session.user)
    )


@router.post(
    "",
    name="auth.session.create",
    summary="Sign in: set the session cookie, get the CSRF token",
    responses=THROTTLED,
)
async def create_session(
    body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep
) -> BrowserSessionPublic:
    user = await signin.sign_in(
        gate, login=body.identity, password=body.password, address=caller_address(request, runtime)
    )
    session = await signin.open_browser_session(
        gate,
        user=user,
        user_agent=request.headers.get("user-agent"),
        replacing=request.cookies.get(SESSION_COOKIE),
    )
    set_session_cookie(response, request, runtime, session)
    no_store(response)
    return _public(session)


@router.get("", name="auth.session.read", summary="The signed-in account and the session's CSRF token")
async def read_session(request: Request, response: Response, gate: SigninDep) -> BrowserSessionPublic:
    session = await signin.current_browser_session(gate, cookie=session_cookie(request))
    no_store(response)
    return _public(session)


@router.post("/refresh", name="auth.session.refresh", summary="Rotate the session cookie and its CSRF token")
async def refresh_session(
    request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep
) -> BrowserSessionPublic:
    session = await signin.refresh_browser_session(
        gate, cookie=session_cookie(request), csrf=request.headers.get(CSRF_HEADER)
    )
    set_session_cookie(response, request, runtime, session)
    no_store(response)
    return _public(session)


@router.delete("", name="auth.session.delete", status_code=204, summary="Sign out: end the session")
async def delete_session(request: Request, runtime: RuntimeDep, gate: SigninDep) -> Response:
    response = Response(status_code=204)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await signin.end_browser_session(gate, cookie=cookie, csrf=request.headers.get(CSRF_HEADER))
    clear_session_cookie(response, request, runtime)
    return response
