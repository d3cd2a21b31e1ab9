"""Album access tokens: unguessable, optionally expiring, revocable; they open one album and its images, nothing else.

Only a hash of a token is stored; the token itself is shown once, when it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Album, AlbumImage, AlbumToken, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.secrets import hash_token, new_token

ALBUM_TOKEN_PREFIX = "alb_"  # noqa: S105 (a prefix, not a secret)
MAX_EXPIRY = timedelta(days=3650)


@dataclass(frozen=True)
class NewAlbumToken:
    token: str  # shown once; only its hash is stored
    row: AlbumToken


def is_album_token(token: str | None) -> bool:
    return token is not None and token.startswith(ALBUM_TOKEN_PREFIX) and len(token) <= 100


async def create_token(session: AsyncSession, *, album: Album, expires_in: timedelta | None) -> NewAlbumToken:
    """Add a token for `album` (the caller checked it may share the album) to the session's transaction."""
    if expires_in is not None and not timedelta(seconds=1) <= expires_in <= MAX_EXPIRY:
        raise InvalidInput("expiresIn must be between 1 second and 10 years.", field="expiresIn")
    token = new_token(ALBUM_TOKEN_PREFIX, 24)
    row = AlbumToken(
        token_hash=hash_token(token),
        album_id=album.id,
        expires_at=utcnow() + expires_in if expires_in is not None else None,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return NewAlbumToken(token=token, row=row)


async def revoke_token(session: AsyncSession, *, album: Album, token: str) -> None:
    """Revoke a token of `album`; a token of another album (or none) is 404, revoking twice is fine."""
    if not is_album_token(token):
        raise NotFound("Album token not found.")
    await revoke_token_hash(session, album=album, token_hash=hash_token(token))


async def revoke_token_hash(session: AsyncSession, *, album: Album, token_hash: str) -> None:
    """Revoke a token of `album` named by its hash (what pages list, as the token is shown only once)."""
    row = await session.get(AlbumToken, token_hash) if len(token_hash) <= 128 else None
    if row is None or row.album_id != album.id:
        raise NotFound("Album token not found.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()


async def live_tokens(session: AsyncSession, *, album: Album) -> list[AlbumToken]:
    """The album's tokens that still open it (not revoked, not expired), newest first."""
    rows = await session.scalars(
        select(AlbumToken).where(AlbumToken.album_id == album.id, AlbumToken.revoked_at.is_(None))
    )
    now = utcnow()
    return sorted((row for row in rows if _live(row, now)), key=lambda row: row.created_at, reverse=True)


def _live(row: AlbumToken, now: datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


async def token_album_id(session: AsyncSession, *, token: str | None) -> str | None:
    """The id of the album a live token opens, or None (unknown, revoked and expired tokens look the same)."""
    if token is None or not is_album_token(token):
        return None
    row = await session.get(AlbumToken, hash_token(token))
    return row.album_id if row is not None and _live(row, utcnow()) else None


async def token_opens_image(*, db: Database, token: str | None, image_id: str) -> bool:
    """Whether a live album token opens this image: the image is in the token's album."""
    async with db.reader() as session:
        album_id = await token_album_id(session, token=token)
        if album_id is None:
            return False
        found = await session.scalar(
            select(exists().where(AlbumImage.album_id == album_id, AlbumImage.image_id == image_id))
        )
    return bool(found)
