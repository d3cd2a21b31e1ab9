"""Who is calling, as route dependencies over `api.credentials.authenticate`, for every API.

Clients send `X-API-Key` (+ `X-User-Id`); user accounts send a JWT access token, an `sk_` key, an upload key or
their browser session cookie. Each alias below states what a route needs; the policy decides the rest.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from pinhole.api.answers import raises
from pinhole.api.credentials import authenticate, require_csrf
from pinhole.api.deps import RuntimeDep
from pinhole.db.models import Client
from pinhole.errors import CsrfFailed, DatabaseBusy, Forbidden, InvalidApiKey, MissingApiKey, PinholeError, Unauthorized
from pinhole.security.policy import Action, require
from pinhole.security.principal import ANONYMOUS, GUEST, Principal, Via


@raises(InvalidApiKey, CsrfFailed, DatabaseBusy)  # credentials are checked when sent
async def optional_principal(
    request: Request,
    runtime: RuntimeDep,
    x_api_key: Annotated[str | None, Header(description="Client API key.")] = None,
    x_user_id: Annotated[str | None, Header(description="External user id (the owner).")] = None,
) -> Principal:
    # The Header parameters only document the headers in OpenAPI; `authenticate` reads the request itself.
    principal = await authenticate(request, runtime)
    require_csrf(request)
    return principal


async def identify_caller(request: Request, runtime: RuntimeDep) -> Principal:
    """Who is calling, for rate limits: never refuses. Bad credentials count as anonymous (by address) here; the
    route's own principal dependency refuses them (and counts a bad key as a failure), or ignores them where it
    reads no credentials (signing in, logging out with an expired access token)."""
    try:
        return await authenticate(request, runtime)
    except PinholeError:
        return ANONYMOUS


@raises(MissingApiKey, Forbidden)  # the policy may refuse what a kind of credential asks
async def client_principal(principal: Annotated[Principal, Depends(optional_principal)]) -> Principal:
    """Anyone who authenticated: a client key or a user account."""
    if principal.is_anonymous:
        raise MissingApiKey(
            "Send your client API key in the X-API-Key header, or sign in (Authorization: Bearer).",
            field="X-API-Key",
        )
    return principal


@raises(MissingApiKey, Forbidden)
async def uploader_principal(
    runtime: RuntimeDep, principal: Annotated[Principal, Depends(optional_principal)]
) -> Principal:
    """Who may upload: anyone authenticated, or, when guest uploads are on, a guest instead of a 401."""
    if principal.is_anonymous and await runtime.app_settings.guest_uploads():
        return GUEST
    return await client_principal(principal)


@raises(Unauthorized)
async def account_principal(principal: Annotated[Principal, Depends(optional_principal)]) -> Principal:
    """A signed-in user account (access token or browser session): what managing keys and the account needs."""
    if principal.via not in (Via.ACCESS_TOKEN, Via.SESSION):
        raise Unauthorized("Sign in: send an access token (Authorization: Bearer) or use a browser session.")
    return principal


@raises(Forbidden)
async def admin_principal(principal: Annotated[Principal, Depends(account_principal)]) -> Principal:
    """A signed-in admin account, which the policy lets administer (routes need not ask again)."""
    if not principal.is_admin:
        raise Forbidden("This needs an admin account.")
    require(principal, Action.ADMINISTER, hide=False)
    return principal


async def optional_client(
    runtime: RuntimeDep, principal: Annotated[Principal, Depends(optional_principal)]
) -> Client | None:
    if principal.via is not Via.CLIENT_KEY or principal.client_id is None:
        return None
    async with runtime.db.reader() as session:
        return await session.get(Client, principal.client_id)


OptionalPrincipal = Annotated[Principal, Depends(optional_principal)]
ClientPrincipal = Annotated[Principal, Depends(client_principal)]
UploaderPrincipal = Annotated[Principal, Depends(uploader_principal)]
AccountPrincipal = Annotated[Principal, Depends(account_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
OptionalClient = Annotated[Client | None, Depends(optional_client)]
