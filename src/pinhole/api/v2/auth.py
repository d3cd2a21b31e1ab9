"""How v2 callers identify themselves: `X-API-Key` (the client) and `X-User-Id` (its external user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from pinhole.api.deps import RuntimeDep
from pinhole.db.models import Client
from pinhole.errors import InvalidApiKey, InvalidInput, MissingApiKey
from pinhole.security.principal import ANONYMOUS, Principal, Via
from pinhole.services.clients import authenticate_client

MAX_USER_ID = 255


def _user_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_USER_ID or not value.isprintable():
        raise InvalidInput("X-User-Id must be 1-255 printable characters.", field="X-User-Id")
    return value


async def _client(runtime: RuntimeDep, api_key: str | None) -> Client | None:
    if api_key is None:
        return None
    client = await authenticate_client(db=runtime.db, api_key=api_key)
    if client is None:
        raise InvalidApiKey("The X-API-Key is not valid or its client is inactive.", field="X-API-Key")
    return client


async def optional_client(
    runtime: RuntimeDep, x_api_key: Annotated[str | None, Header(description="Client API key.")] = None
) -> Client | None:
    return await _client(runtime, x_api_key)


async def required_client(
    runtime: RuntimeDep, x_api_key: Annotated[str | None, Header(description="Client API key.")] = None
) -> Client:
    client = await _client(runtime, x_api_key)
    if client is None:
        raise MissingApiKey("Send your client API key in the X-API-Key header.", field="X-API-Key")
    return client


def _principal(client: Client | None, user_id: str | None) -> Principal:
    if client is None:
        return ANONYMOUS
    return Principal(client_id=client.id, user_id=_user_id(user_id), via=Via.CLIENT_KEY, credential_id=client.id)


async def optional_principal(
    client: Annotated[Client | None, Depends(optional_client)],
    x_user_id: Annotated[str | None, Header(description="External user id (the owner).")] = None,
) -> Principal:
    return _principal(client, x_user_id)


async def client_principal(
    client: Annotated[Client, Depends(required_client)],
    x_user_id: Annotated[str | None, Header(description="External user id (the owner).")] = None,
) -> Principal:
    return _principal(client, x_user_id)


OptionalPrincipal = Annotated[Principal, Depends(optional_principal)]
ClientPrincipal = Annotated[Principal, Depends(client_principal)]
OptionalClient = Annotated[Client | None, Depends(optional_client)]
