"""Clients (tenants) and their API keys: create, authenticate, rotate, revoke, (de)activate.

A client has at most one live key; only its SHA-256 is stored, so a new key is shown once. Rotating replaces the
hash (the old key stops working with the next request); revoking replaces it with a marker no key can hash to,
so nothing works until the next rotation. The built-in accounts tenant never has a key: a client key speaks for
its whole tenant, and one for the accounts tenant would speak for every user account.

Admins change a client's name, active flag, quotas and its own rate-limit rules with `update_client`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Client, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.ratelimit import RateLimitRules
from pinhole.security.secrets import hash_token, matches, new_token
from pinhole.services.client_defaults import watermark_options

API_KEY_PREFIX = "phk_"
REVOKED_MARK = "revoked:"  # not hex: no SHA-256 digest can equal it
MAX_NAME = 200
MAX_RATE_RULES = 50
MAX_SCOPE = 100
QUOTA_FIELDS = ("quota_bytes", "quota_images", "max_file_bytes", "user_quota_bytes", "user_quota_images")


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


async def get_client(*, db: Database, client_id: str) -> Client:
    async with db.reader() as session:
        client = await session.get(Client, client_id)
    if client is None:
        raise NotFound("No such client.", field="client")
    return client


def check_rate_limits(raw: dict[str, str], *, field: str = "rateLimits") -> dict[str, str]:
    """A client's own rules: scope (`v2`, `v2.images.upload`, `*`) -> `10/minute`, `5/10s` or `off`."""
    if len(raw) > MAX_RATE_RULES:
        raise InvalidInput(f"At most {MAX_RATE_RULES} rate-limit rules per client.", field=field)
    for scope in raw:
        if not scope or len(scope) > MAX_SCOPE or not scope.isprintable() or " " in scope:
            raise InvalidInput(f"A rate-limit scope is 1-{MAX_SCOPE} characters without spaces.", field=field)
    try:
        RateLimitRules.parse(raw)
    except ValueError as exc:
        raise InvalidInput(f"Invalid rate limit: {exc}.", field=field) from None
    return {scope: text.strip() for scope, text in raw.items()}


@dataclass(frozen=True)
class ClientChanges:
    """What to change; only the names in `given` are changed (None then means "the server default")."""

    values: dict[str, Any] = field(default_factory=dict)

    ALLOWED = frozenset({"name", "active", "rate_limits", "watermark", "protect_originals", *QUOTA_FIELDS})

    def __post_init__(self) -> None:
        unknown = set(self.values) - self.ALLOWED
        if unknown:
            raise InvalidInput(f"Unknown client field(s): {', '.join(sorted(unknown))}.")


async def update_client(*, db: Database, client_id: str, changes: ClientChanges) -> Client:
    """Change a client's name, active flag, quotas (None = server default, 0 = unlimited) or own rate limits."""
    values = dict(changes.values)
    if "name" in values:
        if values["name"] is None:
            raise InvalidInput("A client needs a name.", field="name")
        values["name"] = _name(values["name"])
    if "active" in values and values["active"] is None:
        raise InvalidInput("active must be true or false.", field="active")
    for name in QUOTA_FIELDS:
        if values.get(name) is not None and values[name] < 0:
            raise InvalidInput(f"{name} must be 0 (unlimited) or more, or null for the default.", field=name)
    if values.get("rate_limits") is not None:
        values["rate_limits"] = check_rate_limits(values["rate_limits"]) or None
    if values.get("watermark") is not None:
        watermark_options(values["watermark"])  # checked here, parsed again when read
    if "protect_originals" in values and values["protect_originals"] is None:
        raise InvalidInput("protect_originals must be true or false.", field="protect_originals")
    async with db.writer() as session:
        client = await session.get(Client, client_id)
        if client is None:
            raise NotFound("No such client.", field="client")
        if client.id == ACCOUNTS_CLIENT_ID and ("active" in values or "rate_limits" in values):
            raise InvalidInput("The built-in accounts tenant has no API key to deactivate or limit.", field="client")
        for name, value in values.items():
            setattr(client, name, value)
    return client


async def client_rate_limits(*, db: Database, client_id: str) -> dict[str, str] | None:
    """A client's own rate-limit rules, None when it has none."""
    async with db.reader() as session:
        rules = await session.scalar(select(Client.rate_limits).where(Client.id == client_id))
    return dict(rules) if rules else None
