"""Signing in to slink: JWT access tokens with rotating refresh tokens, over pinhole's accounts and sessions
(`services.signin`, the same sessions as v2's `/v2/auth`), and who each slink route lets in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response

from pinhole.api.answers import raises
from pinhole.api.credentials import authenticate, require_csrf
from pinhole.api.deps import DatabaseDep, RuntimeDep, caller_address
from pinhole.api.responses import no_store
from pinhole.api.services import SigninDep
from pinhole.dialects.slink.errors import SlinkRoute
from pinhole.dialects.slink.schemas import SlinkLoginRequest, SlinkLogoutRequest, SlinkRefreshRequest, Tokens
from pinhole.errors import CsrfFailed, DatabaseBusy, Forbidden, InvalidApiKey, InvalidInput, Unauthorized
from pinhole.security.principal import GUEST, Principal, Via
from pinhole.services import sessions, signin
from pinhole.services.signin import ApiTokens

router = APIRouter(tags=["slink"], route_class=SlinkRoute)

JWT_VIAS = (Via.ACCESS_TOKEN, Via.SESSION)


@raises(InvalidApiKey, CsrfFailed, DatabaseBusy)  # credentials are checked when sent
async def caller(request: Request, runtime: RuntimeDep) -> Principal:
    principal = await authenticate(request, runtime)
    require_csrf(request)
    return principal


@raises(Unauthorized)
async def jwt_user(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """A signed-in account: `Authorization: Bearer <jwt_access_token>` (or pinhole's browser session)."""
    if principal.via not in JWT_VIAS:
        raise Unauthorized("Sign in: send `Authorization: Bearer <jwt_access_token>` from POST /api/auth/login.")
    return principal


@raises(Unauthorized)
async def api_key_user(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """An account's personal API key: `Authorization: Bearer sk_...`."""
    if principal.via is not Via.PERSONAL_KEY:
        raise Unauthorized("Send an API key: `Authorization: Bearer sk_...`.")
    return principal


@raises(Forbidden)
async def guest(runtime: RuntimeDep) -> Principal:
    """Anyone, as a guest, when guest uploads are on (a run-time setting; credentials sent here are not read)."""
    if not await runtime.app_settings.guest_uploads():
        raise Forbidden("Guest uploads are disabled on this server.")
    return GUEST


JwtUser = Annotated[Principal, Depends(jwt_user)]
ApiKeyUser = Annotated[Principal, Depends(api_key_user)]
Guest = Annotated[Principal, Depends(guest)]
OptionalCaller = Annotated[Principal, Depends(caller)]


def _tokens(issued: ApiTokens) -> Tokens:
    return Tokens(access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in)


@router.post("/api/auth/login", name="auth.login", summary="Sign in with username (or email) and password")
async def login(body: SlinkLoginRequest, request: Request, response: Response, gate: SigninDep) -> Tokens:
    if not body.identity:
        raise InvalidInput("This value should not be blank: send `username` (or `email`).", field="username")
    user = await signin.sign_in(gate, login=body.identity, password=body.password, address=caller_address(request))
    issued = await signin.open_api_session(gate, user=user, user_agent=request.headers.get("user-agent"))
    no_store(response)
    return _tokens(issued)


@router.post("/api/auth/refresh", name="auth.refresh", summary="Exchange the refresh token for a new pair")
async def refresh(body: SlinkRefreshRequest, response: Response, gate: SigninDep) -> Tokens:
    issued = await signin.refresh_api_session(gate, refresh_token=body.refresh_token)
    no_store(response)
    return _tokens(issued)


@router.post("/api/auth/logout", name="auth.logout", status_code=204, summary="Sign out: end the session")
async def logout(
    request: Request,
    runtime: RuntimeDep,
    db: DatabaseDep,
    gate: SigninDep,
    body: Annotated[SlinkLogoutRequest | None, Body()] = None,
) -> Response:
    if body is not None and body.refresh_token:
        await signin.end_api_session(gate, refresh_token=body.refresh_token)
        return Response(status_code=204)
    principal = await authenticate(request, runtime)
    if principal.via not in JWT_VIAS or principal.credential_id is None:
        raise Unauthorized("Send the refresh token, or the access token of the session to end.")
    await sessions.revoke_session(db, session_id=principal.credential_id)
    return Response(status_code=204)
