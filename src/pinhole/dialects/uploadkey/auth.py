"""Who calls the uploadkey API: the shared authentication step, and what each route needs of the caller.

Any pinhole credential is read (`api.credentials`): the browser session cookie (with `X-CSRF-Token` on anything
but GET/HEAD), an upload key (`X-Upload-Key: uk_...` or `Authorization: Bearer uk_...`), and also access tokens,
`sk_` keys and client keys. The policy decides what each may do; this module only picks the documented statuses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from pinhole.api.answers import raises
from pinhole.api.credentials import CSRF_HEADER, authenticate, require_csrf
from pinhole.api.deps import RuntimeDep
from pinhole.errors import CsrfFailed, DatabaseBusy, InvalidApiKey, Unauthorized
from pinhole.security import policy
from pinhole.security.principal import Principal


@raises(InvalidApiKey, CsrfFailed, DatabaseBusy)  # credentials are checked when sent
async def caller(request: Request, runtime: RuntimeDep) -> Principal:
    """The principal, or anonymous; 403 for a session cookie sent without its CSRF token on a state change."""
    principal = await authenticate(request, runtime)
    require_csrf(request)
    return principal


@raises(Unauthorized)
async def uploader(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    if principal.is_anonymous:
        raise Unauthorized("Not authenticated: send an upload key (X-Upload-Key) or sign in (POST /api/login).")
    return principal


@raises(Unauthorized)
async def signed_in(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Someone who may look at images: signed in (or another full credential), not an upload-only key."""
    if principal.is_anonymous:
        raise Unauthorized("Not authenticated: sign in (POST /api/login).")
    if not policy.may(principal, policy.Action.LIST):
        raise Unauthorized("Not authenticated: an upload key may only upload; sign in (POST /api/login).")
    return principal


async def csrf_header(
    x_csrf_token: Annotated[
        str | None,
        Header(alias=CSRF_HEADER, description="CSRF token from login/refresh (needed with the session cookie)."),
    ] = None,
) -> None:
    """Documents the header in OpenAPI; `api.credentials` checks it against the session cookie."""


OptionalCaller = Annotated[Principal, Depends(caller)]
Uploader = Annotated[Principal, Depends(uploader)]
SignedIn = Annotated[Principal, Depends(signed_in)]
CSRF = Depends(csrf_header)
