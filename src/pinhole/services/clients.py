"""Clients (tenants) and their API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pinhole.db.engine import Database
from pinhole.db.models import Client
from pinhole.security.secrets import hash_token, matches, new_token

API_KEY_PREFIX = "phk_"


@dataclass(frozen=True)
class NewClient:
    client: Client
    api_key: str  # shown once, never stored


async def create_client(*, db: Database, name: str) -> NewClient:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("client name must be 1-200 characters")
    key = new_token(API_KEY_PREFIX)
    client = Client(name=name, api_key_hash=hash_token(key), api_key_prefix=key[:12])
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
