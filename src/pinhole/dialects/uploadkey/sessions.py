"""Signing in to the uploadkey API: pinhole's browser sessions (cookie + CSRF token), at the API's own paths."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.credentials import CSRF_HEADER, SESSION_COOKIE
from pinhole.api.deps import RuntimeDep, SigninDep, caller_address
from pinhole.api.session_cookie import clear_session_cookie, session_cookie, set_session_cookie
from pinhole.dialects.uploadkey.auth import CSRF
from pinhole.dialects.uploadkey.errors import UploadkeyRoute
from pinhole.dialects.uploadkey.schemas import Message
from pinhole.dialects.v2.session_schemas import AccountPublic, BrowserSessionPublic, LoginRequest
from pinhole.dialects.v2.sessions import no_store
from pinhole.services import signin
from pinhole.services.signin import BrowserSession

router = APIRouter(prefix="/api", tags=["uploadkey"], route_class=UploadkeyRoute)


def _public(session: BrowserSession) -> BrowserSessionPublic:
    return BrowserSessionPublic(
        csrf_token=session.csrf_token, expires_at=session.expires_at, user=AccountPublic.of(session.user)
    )


@router.post("/login", name="auth.login", summary="Sign in: set the session cookie, get the CSRF token")
async def login(
    body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep
) -> BrowserSessionPublic:
    user = await signin.sign_in(
        gate, login=body.identity, password=body.password, address=caller_address(request, runtime)
    )
    session = await signin.open_browser_session(
        gate, user=user, user_agent=request.headers.get("user-agent"), replacing=request.cookies.get(SESSION_COOKIE)
    )
    set_session_cookie(response, request, runtime, session)
    no_store(response)
    return _public(session)


@router.get("/session", name="auth.session", summary="The signed-in account and the session's CSRF token")
async def read_session(request: Request, response: Response, gate: SigninDep) -> BrowserSessionPublic:
    session = await signin.current_browser_session(gate, cookie=session_cookie(request))
    no_store(response)
    return _public(session)


@router.post(
    "/refresh", name="auth.refresh", dependencies=[CSRF], summary="Rotate the session cookie and its CSRF token"
)
async def refresh(request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep) -> BrowserSessionPublic:
    session = await signin.refresh_browser_session(
        gate, cookie=session_cookie(request), csrf=request.headers.get(CSRF_HEADER)
    )
    set_session_cookie(response, request, runtime, session)
    no_store(response)
    return _public(session)


@router.post("/logout", name="auth.logout", dependencies=[CSRF], summary="Sign out: end the session")
async def logout(request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep) -> Message:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await signin.end_browser_session(gate, cookie=cookie, csrf=request.headers.get(CSRF_HEADER))
    clear_session_cookie(response, request, runtime)
    return Message(message="Logged out")
