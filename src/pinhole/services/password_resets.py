"""Password reset links an admin makes for an account (docs/admin.md, Password resets).

The link carries a random token; only its SHA-256 is stored, with an expiry (`accounts.reset_link_hours`). It works
once: setting the new password marks it used, and the account's sessions are revoked. Making a new link for an
account voids the older unused ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from pinhole.db.models import PasswordReset, User, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.secrets import hash_token, new_token
from pinhole.services import sessions
from pinhole.services.users import Accounts

TOKEN_PREFIX = "pr_"  # noqa: S105 (the prefix of reset tokens, not a secret)


class ResetLinkInvalid(NotFound):
    code = "reset_link_invalid"

    def __init__(self) -> None:
        super().__init__("This password reset link is used, expired or unknown. Ask an admin for a new one.")


async def create_reset(accounts: Accounts, *, user_id: str, created_by: str | None, hours: int) -> tuple[str, datetime]:
    """A new reset token for the account (returned once, never stored in the clear) and when it expires."""
    token = new_token(TOKEN_PREFIX)
    now = utcnow()
    async with accounts.db.writer() as session:
        if await session.get(User, user_id) is None:
            raise NotFound("No such user.", field="user")
        await session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
            .values(expires_at=now)
        )
        session.add(
            PasswordReset(
                token_hash=hash_token(token),
                user_id=user_id,
                created_by=created_by,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token, now + timedelta(hours=hours)


async def reset_user(accounts: Accounts, token: str) -> User:
    """The account a live (unused, unexpired) token resets; `ResetLinkInvalid` otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise ResetLinkInvalid()
    async with accounts.db.reader() as session:
        reset = await session.get(PasswordReset, hash_token(token))
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            raise ResetLinkInvalid()
        user = await session.get(User, reset.user_id)
    if user is None:
        raise ResetLinkInvalid()
    return user


async def use_reset(accounts: Accounts, token: str, *, password: str, repeat: str) -> User:
    """Set the account's new password through the link (once), and sign the account out everywhere."""
    user = await reset_user(accounts, token)
    if password != repeat:
        raise InvalidInput("The two passwords differ.", field="repeat")
    accounts.policy.check(password, username=user.username, email=user.email)
    new_hash = accounts.passwords.hash_password(password)
    async with accounts.db.writer() as session:
        used = await session.execute(
            update(PasswordReset)
            .where(
                PasswordReset.token_hash == hash_token(token),
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > utcnow(),
            )
            .values(used_at=utcnow())
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]  # a second tab used it first
            raise ResetLinkInvalid()
        row = await session.scalar(select(User).where(User.id == user.id))
        assert row is not None
        row.password_hash = new_hash
        row.password_changed_at = utcnow()
    await sessions.revoke_user_sessions(accounts.db, user_id=user.id)
    return row
