"""Signing in to the API (JWT access tokens, rotating refresh tokens) and the signed-in account (`me`), mounted at
`/auth` for every account and at `/admin/auth` for the admin portal (admin accounts only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from pinhole.api.credentials import authenticate
from pinhole.api.deps import DatabaseDep, RuntimeDep, caller_address
from pinhole.api.error_shape import ErrorResponse
from pinhole.api.principals import AccountPrincipal
from pinhole.api.responses import no_store
from pinhole.api.services import SigninDep
from pinhole.api.session_schemas import (
    AccountPublic,
    LoginRequest,
    LogoutRequest,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    TokenPair,
)
from pinhole.db.engine import Database
from pinhole.dialects.v2.errors import V2Route
from pinhole.errors import Forbidden, NotFound, Unauthorized
from pinhole.runtime import Runtime
from pinhole.security.principal import Principal, Via
from pinhole.services import account_choices, sessions, signin, users
from pinhole.services.signin import ApiTokens

SESSION_VIAS = (Via.ACCESS_TOKEN, Via.SESSION)
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Too many failed sign-ins: retry after `Retry-After` seconds"}
}


def token_pair(tokens: ApiTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        refresh_expires_at=tokens.refresh_expires_at,
        user=AccountPublic.of(tokens.user),
    )


def _admin_only(principal: Principal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This needs an admin account.")
    return principal


def _anyone(principal: Principal) -> Principal:
    return principal


async def signed_in_user(db: Database, principal: Principal) -> AccountPublic:
    user = await users.get_user(db, principal.account_id or "")
    if user is None:
        raise NotFound("No such user.")
    return AccountPublic.of(user)


async def _session_of_caller(request: Request, runtime: Runtime) -> str:
    principal = await authenticate(request, runtime)
    if principal.via not in SESSION_VIAS or principal.credential_id is None:
        raise Unauthorized("Send the refresh token, or the access token of the session to end.")
    return principal.credential_id


def build_token_router(*, prefix: str, admin: bool) -> APIRouter:
    name = "auth.admin" if admin else "auth"
    # Annotations are resolved from module globals, so the admin check is a call rather than its own dependency.
    allowed = _admin_only if admin else _anyone
    who = "an admin account" if admin else "any account"
    router = APIRouter(prefix=prefix, tags=["v2"], route_class=V2Route)

    @router.post(
        "/login",
        name=f"{name}.login",
        summary=f"Sign in ({who}): get an access and a refresh token",
        responses=THROTTLED,
    )
    async def login(body: LoginRequest, request: Request, response: Response, gate: SigninDep) -> TokenPair:
        user = await signin.sign_in(
            gate,
            login=body.identity,
            password=body.password,
            address=caller_address(request),
            admin_only=admin,
        )
        tokens = await signin.open_api_session(gate, user=user, user_agent=request.headers.get("user-agent"))
        no_store(response)
        return token_pair(tokens)

    @router.post("/refresh", name=f"{name}.refresh", summary="Exchange the refresh token for a new pair")
    async def refresh(body: RefreshRequest, response: Response, gate: SigninDep) -> TokenPair:
        tokens = await signin.refresh_api_session(gate, refresh_token=body.refresh_token, admin_only=admin)
        no_store(response)
        return token_pair(tokens)

    @router.post("/logout", name=f"{name}.logout", status_code=204, summary="Sign out: end the session")
    async def logout(
        request: Request,
        runtime: RuntimeDep,
        db: DatabaseDep,
        gate: SigninDep,
        body: Annotated[LogoutRequest | None, Body()] = None,
    ) -> Response:
        if body is not None and body.refresh_token:
            await signin.end_api_session(gate, refresh_token=body.refresh_token)
        else:
            await sessions.revoke_session(db, session_id=await _session_of_caller(request, runtime))
        return Response(status_code=204)

    @router.get("/me", name=f"{name}.me", summary="The signed-in account")
    async def me(principal: AccountPrincipal, db: DatabaseDep) -> AccountPublic:
        return await signed_in_user(db, allowed(principal))

    @router.patch("/me", name=f"{name}.me.update", summary="Change the display name, email or photo choices")
    async def update_me(body: ProfileUpdate, principal: AccountPrincipal, db: DatabaseDep) -> AccountPublic:
        account_id = allowed(principal).account_id or ""
        user = await users.update_profile(db, account_id, display_name=body.display_name, email=body.email)
        if body.keep_location is not None or body.show_name is not None:
            user = await account_choices.set_choices(
                db, account_id, keep_location=body.keep_location, show_name=body.show_name
            )
        return AccountPublic.of(user)

    @router.post(
        "/me/change-password",
        name=f"{name}.me.password",
        status_code=204,
        summary="Change the password; every other session of the account ends",
        responses=THROTTLED,
    )
    async def change_password(
        body: PasswordChange, principal: AccountPrincipal, request: Request, gate: SigninDep
    ) -> Response:
        allowed(principal)
        await signin.change_password(
            gate,
            user_id=principal.account_id or "",
            current=body.current_password,
            new=body.new_password,
            address=caller_address(request),
            keep_session=principal.credential_id,
        )
        return Response(status_code=204)

    return router
