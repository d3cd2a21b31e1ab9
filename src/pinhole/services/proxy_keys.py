"""Each client's own keys for the proxy URL dialects: add (given, or made here), list (never the secrets), remove,
and the decrypted keys a signature check tries.

A client holds at most `MAX_KEYS` per dialect (rotation: add the new one, move the sites, remove the old one), so
a request computes a bounded number of HMACs. The secret parts are sealed with the server secret
(`security.sealing`); Cloudinary's cloud name and API key are public and name the client (one client per cloud
name). docs/proxies.md, "Per-client keys".
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from pinhole.concurrency.singleflight import Rereads
from pinhole.db.engine import Database
from pinhole.db.models import ProxyClientKey
from pinhole.errors import Conflict, InvalidInput, NotFound
from pinhole.security.sealing import UnsealError, seal, unseal
from pinhole.services.clients import get_client

logger = logging.getLogger(__name__)

DIALECTS = ("imgproxy", "thumbor", "imgix", "cloudinary")
SECRET_FIELDS = {"imgproxy": ("key", "salt"), "thumbor": ("security_key",), "imgix": ("token",),
                 "cloudinary": ("api_secret",)}  # fmt: skip
MAX_KEYS = 5
PURPOSE = "proxy-client-keys"
_CLOUD_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
_API_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


ABSENCE_SECONDS = 5.0


class KeyAbsence:
    """Which clients hold no keys of a dialect, remembered for `ABSENCE_SECONDS` so the hot path of the many
    clients without own keys skips a database read. Only absence is remembered: a removed key stops with the next
    request; a key added in another process works within `ABSENCE_SECONDS` (in this one, at once).

    When a remembered absence is due, one request reads the keys again (`rereads`) while the others keep trusting
    the absence: otherwise every in-flight request would leave the warm path at that moment and run the same query
    (the burst that stalled the event loop with client rules, services/client_defaults.py)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._clock = clock
        self.rereads: Rereads[list[ProxyKey]] = Rereads()

    def known(self, client_id: str, dialect: str) -> bool:
        until = self._until.get((client_id, dialect))
        return until is not None and (until > self._clock() or (client_id, dialect) in self.rereads)

    def remember(self, client_id: str, dialect: str) -> None:
        if len(self._until) > 10_000:
            self._until.clear()
        self._until[client_id, dialect] = self._clock() + ABSENCE_SECONDS

    def forget(self, client_id: str, dialect: str) -> None:
        self.rereads.changed()
        self._until.pop((client_id, dialect), None)

    def keep(self, client_id: str, dialect: str, found: list[ProxyKey]) -> None:
        """What a read found: absence is remembered, keys are never."""
        if found:
            self._until.pop((client_id, dialect), None)
        else:
            self.remember(client_id, dialect)


@dataclass(frozen=True)
class ProxyKey:
    """One key that may sign a dialect's URLs, for `client_id` (None: an instance-wide key acting for nobody in
    particular). `secret` holds the dialect's secret parts (`SECRET_FIELDS`)."""

    id: str
    client_id: str | None
    dialect: str
    secret: Mapping[str, str] = field(repr=False)
    cloud_name: str | None = None
    api_key: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class KeyRequest:
    """What an admin gives to add a key; a secret left out is made here (and shown once)."""

    dialect: str
    secret: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    cloud_name: str | None = None
    api_key: str | None = None


def _made(dialect: str, name: str) -> str:
    if dialect == "imgproxy":
        return secrets.token_hex(32)
    if dialect == "imgix":
        return secrets.token_hex(16)
    return secrets.token_urlsafe(32)


def _checked_secret(dialect: str, name: str, value: str | None) -> str:
    if value is None:
        return _made(dialect, name)
    if dialect == "imgproxy" and not _HEX.fullmatch(value):
        raise InvalidInput(f"imgproxy {name} must be hex, as imgproxy takes it.", field=name)
    if not 1 <= len(value) <= 512 or not value.isprintable() or value.strip() != value:
        raise InvalidInput(f"{name} must be 1-512 printable characters.", field=name)
    return value


async def add_key(
    *,
    db: Database,
    server_secret: str,
    client_id: str,
    request: KeyRequest,
    reserved_clouds: frozenset[str] = frozenset(),
    absence: KeyAbsence | None = None,
) -> ProxyKey:
    """A new key for `client_id`, its secret in the answer (the only time it is shown)."""
    if absence is not None:
        absence.forget(client_id, request.dialect)
    if request.dialect not in DIALECTS:
        raise InvalidInput(f"dialect must be one of {', '.join(DIALECTS)}.", field="dialect")
    await get_client(db=db, client_id=client_id)
    names = SECRET_FIELDS[request.dialect]
    unknown = sorted(set(request.secret) - set(names))
    if unknown:
        raise InvalidInput(f"{request.dialect} keys do not take {unknown[0]}.", field=unknown[0])
    secret = {name: _checked_secret(request.dialect, name, request.secret.get(name)) for name in names}
    cloud_name, api_key = await _cloudinary_parts(db, client_id, request, reserved_clouds)
    async with db.writer() as session:
        count = await session.scalar(
            select(func.count()).where(ProxyClientKey.client_id == client_id, ProxyClientKey.dialect == request.dialect)
        )
        if (count or 0) >= MAX_KEYS:
            raise Conflict(f"A client holds at most {MAX_KEYS} {request.dialect} keys; remove one first.")
        row = ProxyClientKey(
            client_id=client_id,
            dialect=request.dialect,
            cloud_name=cloud_name,
            api_key=api_key,
            sealed=seal(json.dumps(secret).encode(), server_secret=server_secret, purpose=PURPOSE),
        )
        session.add(row)
        await session.flush()
        return _key(row, secret)


async def _cloudinary_parts(
    db: Database, client_id: str, request: KeyRequest, reserved: frozenset[str]
) -> tuple[str | None, str | None]:
    if request.dialect != "cloudinary":
        if request.cloud_name is not None or request.api_key is not None:
            raise InvalidInput("cloudName and apiKey are Cloudinary's.", field="cloudName")
        return None, None
    cloud = request.cloud_name or ""
    if not _CLOUD_NAME.fullmatch(cloud) or cloud in reserved:
        raise InvalidInput("cloudName: lower-case letters, digits, - and _ (not the instance's).", field="cloudName")
    api_key = request.api_key if request.api_key is not None else str(secrets.randbelow(10**15)).zfill(15)
    if not _API_KEY.fullmatch(api_key):
        raise InvalidInput("apiKey: letters, digits, - and _.", field="apiKey")
    async with db.reader() as session:
        owner = await session.scalar(
            select(ProxyClientKey.client_id).where(
                ProxyClientKey.cloud_name == cloud, ProxyClientKey.client_id != client_id
            )
        )
    if owner is not None:
        raise Conflict("This cloud name belongs to another client.")
    return cloud, api_key


def _key(row: ProxyClientKey, secret: Mapping[str, str]) -> ProxyKey:
    return ProxyKey(
        id=row.id,
        client_id=row.client_id,
        dialect=row.dialect,
        secret=secret,
        cloud_name=row.cloud_name,
        api_key=row.api_key,
        created_at=row.created_at,
    )


async def list_keys(*, db: Database, client_id: str) -> list[ProxyClientKey]:
    """The client's keys, oldest first (rows: the secrets stay sealed)."""
    await get_client(db=db, client_id=client_id)
    async with db.reader() as session:
        found = await session.scalars(
            select(ProxyClientKey)
            .where(ProxyClientKey.client_id == client_id)
            .order_by(ProxyClientKey.created_at, ProxyClientKey.id)
        )
        return list(found)


async def remove_key(*, db: Database, client_id: str, key_id: str) -> None:
    async with db.writer() as session:
        row = await session.get(ProxyClientKey, key_id)
        if row is None or row.client_id != client_id:
            raise NotFound("This client has no such proxy key.", field="keyId")
        await session.delete(row)


async def keys_for(
    *, db: Database, server_secret: str, client_id: str, dialect: str, absence: KeyAbsence | None = None
) -> list[ProxyKey]:
    """The client's usable keys for `dialect`, decrypted (at most `MAX_KEYS`)."""
    if absence is None:
        return await _client_keys(db, server_secret, client_id, dialect)
    if absence.known(client_id, dialect):
        return []
    return await absence.rereads.run(
        (client_id, dialect),
        lambda: _client_keys(db, server_secret, client_id, dialect),
        lambda found: absence.keep(client_id, dialect, found),
    )


async def _client_keys(db: Database, server_secret: str, client_id: str, dialect: str) -> list[ProxyKey]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(ProxyClientKey)
            .where(ProxyClientKey.client_id == client_id, ProxyClientKey.dialect == dialect)
            .order_by(ProxyClientKey.created_at)
            .limit(MAX_KEYS)
        )
        return _opened(list(rows), server_secret)


async def cloud_keys(*, db: Database, server_secret: str, cloud_name: str) -> list[ProxyKey]:
    """The Cloudinary keys of the client that owns `cloud_name` (none: no client has it)."""
    async with db.reader() as session:
        rows = await session.scalars(
            select(ProxyClientKey)
            .where(ProxyClientKey.dialect == "cloudinary", ProxyClientKey.cloud_name == cloud_name)
            .order_by(ProxyClientKey.created_at)
            .limit(MAX_KEYS)
        )
        return _opened(list(rows), server_secret)


def _opened(rows: list[ProxyClientKey], server_secret: str) -> list[ProxyKey]:
    found = []
    for row in rows:
        try:
            secret = json.loads(unseal(row.sealed, server_secret=server_secret, purpose=PURPOSE))
        except UnsealError:  # the server secret changed: the key is unusable until added again
            logger.warning("proxy key %s of client %s cannot be opened with this server secret", row.id, row.client_id)
            continue
        found.append(_key(row, secret))
    return found
