"""Clients (tenants) and their API keys: create, authenticate, rotate, revoke, (de)activate.

A client has at most one live key; only its SHA-256 is stored, so a new key is shown once. Rotating replaces the
hash (the old key stops working with the next request); revoking replaces it with a marker no key can hash to,
so nothing works until the next rotation. The built-in accounts tenant never has a key: a client key speaks for
its whole tenant, and one for the accounts tenant would speak for every user account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Client, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.secrets import hash_token, matches, new_token

API_KEY_PREFIX = "phk_"
REVOKED_MARK = "revoked:"  # not hex: no SHA-256 digest can equal it
MAX_NAME = 200


@dataclass(frozen=True)
class NewClient:
    client: Client
    api_key: str  # shown once, never stored


def has_usable_key(client: Client) -> bool:
    """Whether some key can open this client (False after revocation, and for the accounts tenant)."""
    digest = client.api_key_hash
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(f"A client name is 1-{MAX_NAME} printable characters.", field="name")
    return name


def _new_key(client: Client) -> str:
    key = new_token(API_KEY_PREFIX)
    client.api_key_hash = hash_token(key)
    client.api_key_prefix = key[:12]
    return key


async def create_client(*, db: Database, name: str) -> NewClient:
    client = Client(name=_name(name))
    key = _new_key(client)
    async with db.writer() as session:
        session.add(client)
    return NewClient(client=client, api_key=key)


async def authenticate_client(*, db: Database, api_key: str) -> Client | None:
    """The active client owning this key, or None."""
    if not api_key.startswith(API_KEY_PREFIX) or len(api_key) > 128:
        return None
    async with db.reader() as session:
        client = await session.scalar(select(Client).where(Client.api_key_hash == hash_token(api_key)))
    if client is None or not client.active or not matches(api_key, client.api_key_hash):
        return None
    return client


async def list_clients(*, db: Database) -> list[Client]:
    async with db.reader() as session:
        return list(await session.scalars(select(Client).order_by(Client.created_at)))


async def _changeable(session: AsyncSession, client_id: str) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("No such client.", field="client")
    if client.id == ACCOUNTS_CLIENT_ID:
        raise InvalidInput("The built-in accounts tenant has no API key and cannot be changed.", field="client")
    return client


async def rotate_client_key(*, db: Database, client_id: str) -> NewClient:
    """A new key for the client (shown once); the previous key, if any, stops working at once."""
    async with db.writer() as session:
        client = await _changeable(session, client_id)
        key = _new_key(client)
        client.key_rotated_at = utcnow()
    return NewClient(client=client, api_key=key)


async def revoke_client_key(*, db: Database, client_id: str) -> Client:
    """No key opens the client until `rotate_client_key` issues a new one."""
    async with db.writer() as session:
        client = await _changeable(session, client_id)
        client.api_key_hash = REVOKED_MARK + secrets.token_hex(16)  # unique, like every stored hash
        client.api_key_prefix = "-"
    return client


async def set_client_active(*, db: Database, client_id: str, active: bool) -> Client:
    """An inactive client's key is refused; its images are still served as before."""
    async with db.writer() as session:
        client = await _changeable(session, client_id)
        client.active = active
    return client
