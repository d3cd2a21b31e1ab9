"""Test helper: a user account and the headers that sign it in (a JWT of a real session), without the login route."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pinhole.db.models import User
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import sessions, users

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    user: User
    access_token: str
    session_id: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_account(runtime: Runtime, username: str, *, role: Role = Role.USER) -> Account:
    user = await users.create_user(
        runtime.accounts, email=f"{username}@example.com", password=PASSWORD, username=username, role=role
    )
    issued = await sessions.start_session(
        runtime.db, user=user, kind=sessions.SessionKind.API, lifetime=timedelta(days=1)
    )
    token, _ = runtime.access_tokens.issue(user_id=user.id, session_id=issued.session.id, role=user.role)
    return Account(user=user, access_token=token, session_id=issued.session.id, refresh_token=issued.token)
