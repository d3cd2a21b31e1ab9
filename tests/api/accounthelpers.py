"""User accounts in tests without the sign-in routes: make a user, get a signed-in (JWT) or `sk_` key header."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import keys, sessions, users

PASSWORD = "a long test passphrase"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    username: str
    session_id: str
    access_token: str
    refresh_token: str

    def headers(self) -> dict[str, str]:
        """Signed in: what managing keys needs."""
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_account(runtime: Runtime, name: str | None = None, *, role: Role = Role.USER) -> Account:
    """A new active account (username `name`, or a fresh one) with a live API session and its access token."""
    username = name or f"user{next(_numbers)}"
    user = await users.create_user(
        runtime.accounts, email=f"{username}@example.com", password=PASSWORD, username=username, role=role
    )
    issued = await sessions.start_session(runtime.db, user=user, kind=sessions.SessionKind.API, lifetime=timedelta(1))
    token, _ = runtime.access_tokens.issue(user_id=user.id, session_id=issued.session.id, role=user.role)
    return Account(
        id=user.id,
        email=user.email,
        username=user.username,
        session_id=issued.session.id,
        access_token=token,
        refresh_token=issued.token,
    )


async def personal_key_headers(runtime: Runtime, account: Account) -> dict[str, str]:
    new = await keys.create_personal_key(runtime.db, user_id=account.id, name="test key")
    return {"Authorization": f"Bearer {new.key}"}


async def upload_key_headers(runtime: Runtime, account: Account) -> dict[str, str]:
    new = await keys.create_upload_key(runtime.db, secret=runtime.secret, user_id=account.id, name="test upload key")
    return {"X-Upload-Key": new.key}
