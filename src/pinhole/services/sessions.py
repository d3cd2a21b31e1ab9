"""Sign-in sessions: API sessions (JWT access + rotating refresh tokens) and browser sessions (cookie + CSRF).

A session holds a chain of opaque tokens, of which only SHA-256 hashes are stored. Rotating a token marks it used
and issues the next one; presenting a used token again means it was copied, so the whole session is revoked and
both the thief and the owner must sign in again (refresh-token reuse detection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update

from pinhole.db.engine import Database
from pinhole.db.models import AuthSession, SessionToken, User, utcnow
from pinhole.errors import SessionExpired, TokenReused
from pinhole.security.secrets import hash_token, new_token

TOKEN_PREFIX = {"api": "rt_", "browser": "bs_"}
MAX_TOKEN_LENGTH = 256
TOUCH_EVERY = timedelta(minutes=1)


class SessionKind(StrEnum):
    API = "api"
    BROWSER = "browser"


@dataclass(frozen=True)
class IssuedSession:
    session: AuthSession
    user: User
    token: str  # the refresh token (API) or cookie value (browser): shown once, only its hash is kept


def _mint(kind: SessionKind) -> str:
    return new_token(TOKEN_PREFIX[kind.value])


async def start_session(
    db: Database, *, user: User, kind: SessionKind, lifetime: timedelta, user_agent: str | None = None
) -> IssuedSession:
    token = _mint(kind)
    now = utcnow()
    session_row = AuthSession(
        user_id=user.id,
        kind=kind.value,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
        user_agent=(user_agent or "")[:255] or None,
    )
    async with db.writer() as session:
        session.add(session_row)
        await session.flush()
        session.add(SessionToken(token_hash=hash_token(token), session_id=session_row.id, created_at=now))
    return IssuedSession(session=session_row, user=user, token=token)


def _live(row: AuthSession, user: User, now: datetime) -> bool:
    return row.revoked_at is None and row.expires_at > now and user.status == "active"


async def rotate(db: Database, *, token: str, kind: SessionKind) -> IssuedSession:
    """Exchange a current token for the next one in its session; a used token revokes the session."""
    if not token.startswith(TOKEN_PREFIX[kind.value]) or len(token) > MAX_TOKEN_LENGTH:
        raise SessionExpired("The token is not valid.")
    digest = hash_token(token)
    now = utcnow()
    next_token = _mint(kind)
    async with db.writer() as session:
        query = (
            select(SessionToken, AuthSession, User)
            .join(AuthSession, SessionToken.session_id == AuthSession.id)
            .join(User, AuthSession.user_id == User.id)
            .where(SessionToken.token_hash == digest, AuthSession.kind == kind.value)
            .with_for_update(of=SessionToken)
        )
        found = (await session.execute(query)).first()
        if found is None:
            raise SessionExpired("The token is not valid.")
        stored, session_row, user = found
        reused = stored.used_at is not None
        if reused:  # committed, then refused below: the revocation must stick
            session_row.revoked_at = session_row.revoked_at or now
        elif not _live(session_row, user, now):
            raise SessionExpired()
        else:
            stored.used_at = now
            session_row.last_used_at = now
            session.add(SessionToken(token_hash=hash_token(next_token), session_id=session_row.id, created_at=now))
    if reused:
        raise TokenReused()
    return IssuedSession(session=session_row, user=user, token=next_token)


async def session_for_token(db: Database, *, token: str, kind: SessionKind) -> tuple[AuthSession, User] | None:
    """The live session a current (unused) token belongs to; None otherwise. Does not rotate."""
    if not token.startswith(TOKEN_PREFIX[kind.value]) or len(token) > MAX_TOKEN_LENGTH:
        return None
    async with db.reader() as session:
        query = (
            select(SessionToken, AuthSession, User)
            .join(AuthSession, SessionToken.session_id == AuthSession.id)
            .join(User, AuthSession.user_id == User.id)
            .where(SessionToken.token_hash == hash_token(token), AuthSession.kind == kind.value)
        )
        found = (await session.execute(query)).first()
    if found is None:
        return None
    stored, session_row, user = found
    if stored.used_at is not None or not _live(session_row, user, utcnow()):
        return None
    await _touch(db, session_row)
    return session_row, user


async def live_session(db: Database, *, session_id: str, user_id: str) -> tuple[AuthSession, User] | None:
    """The session an access token names, if it and its user are still live."""
    async with db.reader() as session:
        query = (
            select(AuthSession, User)
            .join(User, AuthSession.user_id == User.id)
            .where(AuthSession.id == session_id, User.id == user_id)
        )
        found = (await session.execute(query)).first()
    if found is None:
        return None
    session_row, user = found
    return (session_row, user) if _live(session_row, user, utcnow()) else None


async def _touch(db: Database, row: AuthSession) -> None:
    now = utcnow()
    if now - row.last_used_at < TOUCH_EVERY:
        return
    async with db.writer() as session:
        await session.execute(update(AuthSession).where(AuthSession.id == row.id).values(last_used_at=now))


async def revoke_session(db: Database, *, session_id: str) -> None:
    async with db.writer() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


async def revoke_user_sessions(db: Database, *, user_id: str, keep: str | None = None) -> int:
    """Revoke every live session of a user (password change, suspension), except `keep`."""
    query = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    async with db.writer() as session:
        result = await session.execute(query.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
