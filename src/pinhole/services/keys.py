"""A user's keys: personal `sk_` API keys and upload-only keys. Only hashes are stored; keys are shown once.

Upload keys are the exception to "shown once": the key is an HMAC of its row's random nonce under a key derived
from the server secret, so the server can hand out a ShareX config for it again, while the database alone (a
leaked backup) reveals nothing usable. Rotating the server secret therefore invalidates every upload key.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from pinhole.db.engine import Database
from pinhole.db.models import ApiKey, UploadKey, User, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.secrets import hash_token, matches
from pinhole.security.signing import derive_key

PERSONAL_PREFIX = "sk_"
UPLOAD_PREFIX = "uk_"
UPLOAD_KEY_PURPOSE = "upload-key/v1"
MAX_NAME = 100
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class NewKey:
    key: str  # the secret, shown once (upload keys: retrievable through `upload_key_secret`)
    row: ApiKey | UploadKey


def _name(name: str | None, default: str) -> str:
    name = (name or default).strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(f"A key name is 1-{MAX_NAME} printable characters.", field="name")
    return name


def new_personal_key() -> str:
    """`sk_` and 64 hex characters (256 random bits), as the Slink API document shows them."""
    return PERSONAL_PREFIX + secrets.token_hex(32)


async def create_personal_key(
    db: Database, *, user_id: str, name: str | None = None, expires_at: datetime | None = None
) -> NewKey:
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("The expiry must be in the future.", field="expiresAt")
    key = new_personal_key()
    row = ApiKey(
        user_id=user_id,
        name=_name(name, "API key"),
        key_hash=hash_token(key),
        prefix=key[:10],
        expires_at=expires_at,
    )
    async with db.writer() as session:
        session.add(row)
    return NewKey(key=key, row=row)


K = TypeVar("K", ApiKey, UploadKey)


async def _list(db: Database, model: type[K], user_id: str) -> list[K]:
    async with db.reader() as session:
        query = select(model).where(model.user_id == user_id, model.revoked_at.is_(None))
        return list(await session.scalars(query.order_by(model.created_at)))


async def _get(db: Database, model: type[K], key_id: str) -> K | None:
    async with db.reader() as session:
        return await session.get(model, key_id)


async def _revoke(db: Database, model: type[K], key_id: str) -> None:
    async with db.writer() as session:
        row = await session.get(model, key_id)
        if row is None or row.revoked_at is not None:
            raise NotFound("No such key.")
        row.revoked_at = utcnow()


async def _authenticate(db: Database, model: type[K], key: str, prefix: str) -> tuple[K, User] | None:
    """The live key and its active user, or None. Records the key's last use (at most once a minute)."""
    if not key.startswith(prefix) or len(key) > MAX_KEY_LENGTH:
        return None
    async with db.reader() as session:
        query = select(model, User).join(User).where(model.key_hash == hash_token(key))
        found = (await session.execute(query)).first()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    expires_at: datetime | None = getattr(row, "expires_at", None)
    if not matches(key, row.key_hash) or row.revoked_at is not None or user.status != "active":
        return None
    if expires_at is not None and expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        async with db.writer() as session:
            await session.execute(update(model).where(model.id == row.id).values(last_used_at=now))
    return row, user


async def list_personal_keys(db: Database, *, user_id: str) -> list[ApiKey]:
    return await _list(db, ApiKey, user_id)


async def get_personal_key(db: Database, key_id: str) -> ApiKey | None:
    return await _get(db, ApiKey, key_id)


async def revoke_personal_key(db: Database, *, key_id: str) -> None:
    await _revoke(db, ApiKey, key_id)


async def authenticate_personal_key(db: Database, key: str) -> tuple[ApiKey, User] | None:
    return await _authenticate(db, ApiKey, key, PERSONAL_PREFIX)


def upload_key_secret(secret: str, row: UploadKey) -> str:
    """Re-derive an upload key from its nonce and the server secret."""
    mac = hmac.digest(derive_key(secret, UPLOAD_KEY_PURPOSE), row.nonce.encode(), "sha256")
    return UPLOAD_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def create_upload_key(db: Database, *, secret: str, user_id: str, name: str | None = None) -> NewKey:
    row = UploadKey(user_id=user_id, name=_name(name, "Upload key"), nonce=secrets.token_hex(16))
    key = upload_key_secret(secret, row)
    row.key_hash = hash_token(key)
    row.prefix = key[:10]
    async with db.writer() as session:
        session.add(row)
    return NewKey(key=key, row=row)


async def list_upload_keys(db: Database, *, user_id: str) -> list[UploadKey]:
    return await _list(db, UploadKey, user_id)


async def get_upload_key(db: Database, key_id: str) -> UploadKey | None:
    return await _get(db, UploadKey, key_id)


async def revoke_upload_key(db: Database, *, key_id: str) -> None:
    await _revoke(db, UploadKey, key_id)


async def authenticate_upload_key(db: Database, key: str) -> tuple[UploadKey, User] | None:
    return await _authenticate(db, UploadKey, key, UPLOAD_PREFIX)
