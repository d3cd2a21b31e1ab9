"""Who a userimages request acts for: the calling client's external user `userId` (the path's).

The client proves itself with its API key (`X-API-Key` or `Authorization: Bearer`). Account credentials (access
tokens, `sk_` and upload keys) are refused: `userId` names a user of a client, and accounts have no client users.
With `dialects.userimages.require_key=false`, a request without a key acts for `default_client`'s user.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from pinhole.api.answers import raises
from pinhole.api.credentials import MAX_USER_ID, authenticate, require_csrf
from pinhole.api.deps import RuntimeDep
from pinhole.errors import CsrfFailed, DatabaseBusy, InvalidApiKey, InvalidInput, MissingApiKey, NotFound, PinholeError
from pinhole.runtime import Runtime
from pinhole.security.principal import ANONYMOUS, Principal, Via
from pinhole.services.clients import get_client

UserIdPath = Annotated[
    str, Path(alias="userId", description="Your user's id (1-255 printable characters).", examples=["user_67890"])
]


def check_user_id(value: str) -> str:
    if not value or len(value) > MAX_USER_ID or not value.isprintable():
        raise InvalidInput(f"userId must be 1-{MAX_USER_ID} printable characters.", field="userId")
    return value


async def _keyless(runtime: Runtime) -> Principal:
    """The default client's principal (only when keys are not required), refused when it is gone or inactive."""
    mount = runtime.settings.dialects.userimages
    if mount.require_key or mount.default_client is None:
        raise MissingApiKey("Send your client API key: `X-API-Key` or `Authorization: Bearer`.", field="X-API-Key")
    try:
        client = await get_client(db=runtime.db, client_id=mount.default_client.strip())
    except NotFound:
        client = None
    if client is None or not client.active:
        raise InvalidApiKey("The configured default client does not exist or is inactive.", field="X-API-Key")
    return Principal(client_id=client.id, via=Via.CLIENT_KEY, credential_id=client.id)


async def _acting(request: Request, runtime: Runtime, user_id: str) -> Principal:
    principal = await authenticate(request, runtime)
    require_csrf(request)
    if principal.is_anonymous:
        principal = await _keyless(runtime)
    elif principal.via is not Via.CLIENT_KEY:
        raise InvalidApiKey("userimages takes a client API key, not an account's key or token.", field="X-API-Key")
    return dataclasses.replace(principal, user_id=check_user_id(user_id))


@raises(MissingApiKey, InvalidApiKey, CsrfFailed, InvalidInput, DatabaseBusy)
async def user_principal(
    request: Request,
    runtime: RuntimeDep,
    user_id: UserIdPath,
    x_api_key: Annotated[str | None, Header(description="Client API key (or `Authorization: Bearer`).")] = None,
) -> Principal:
    """The client acting for its user `userId`; 401 without a valid client key (unless keys are not required)."""
    # The header parameter only documents it in OpenAPI; `authenticate` reads the request itself.
    return await _acting(request, runtime, user_id)


async def rate_caller(request: Request, runtime: RuntimeDep) -> Principal:
    """Who is counted, for rate limits: never refuses (the route's dependency does), bad credentials count by
    address."""
    try:
        return await _acting(request, runtime, str(request.path_params.get("userId", "")))
    except PinholeError:
        return ANONYMOUS


def rate_key(principal: Principal) -> str | None:
    """Per user of a client: the document's "10 requests/minute per user"."""
    if principal.via is Via.CLIENT_KEY and principal.client_id is not None and principal.user_id is not None:
        return f"apikey:{principal.client_id}:user:{principal.user_id}"
    return None


UserPrincipal = Annotated[Principal, Depends(user_principal)]
