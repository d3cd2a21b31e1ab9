"""User accounts: create, find by username or email, change profile, password and status.

Accounts live in the built-in accounts tenant (`ACCOUNTS_CLIENT_ID`), which this module creates on first use.
Emails and usernames are stored lower-cased and trimmed, so either signs in whatever its case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Client, User, utcnow
from pinhole.errors import Conflict, InvalidInput, NotFound, Unauthorized
from pinhole.security.passwords import PasswordPolicy, Passwords
from pinhole.security.principal import Role
from pinhole.services import sessions

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MAX_DISPLAY_NAME = 200


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Accounts:
    """What account services need: the hasher and the policy (built once by the composition root)."""

    db: Database
    passwords: Passwords
    policy: PasswordPolicy


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise InvalidInput("Give a valid email address.", field="email")
    return email


def normalize_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise InvalidInput(
            "A username is 3-64 of a-z 0-9 . _ - and starts and ends with a letter or digit.", field="username"
        )
    return username


def _display_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_DISPLAY_NAME or not value.isprintable():
        raise InvalidInput(f"The display name must be 1-{MAX_DISPLAY_NAME} printable characters.", field="displayName")
    return value


async def ensure_accounts_client(db: Database, session: AsyncSession) -> None:
    """Create the accounts tenant if it is missing. Its key hash is not hex, so no API key can ever match it."""
    stmt = (
        db.insert(Client)
        .values(id=ACCOUNTS_CLIENT_ID, name="accounts", api_key_hash="-", api_key_prefix="-", active=True)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await session.execute(stmt)


async def _free_username(session: AsyncSession, email: str) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", email.partition("@")[0])[:56].strip("._-") or "user"
    base = base if len(base) >= 3 else f"{base}user"
    candidate, n = base, 1
    while await session.scalar(select(User.id).where(User.username == candidate)) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


async def create_user(
    accounts: Accounts,
    *,
    email: str,
    password: str,
    username: str | None = None,
    display_name: str | None = None,
    role: Role = Role.USER,
) -> User:
    """A new active account; the username defaults to the email's local part (made unique)."""
    email = normalize_email(email)
    wanted = normalize_username(username) if username else None
    accounts.policy.check(password, username=wanted, email=email)
    password_hash = accounts.passwords.hash_password(password)
    async with accounts.db.writer() as session:
        await ensure_accounts_client(accounts.db, session)
        if await session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict("An account with this email already exists.", field="email")
        if wanted and await session.scalar(select(User.id).where(User.username == wanted)) is not None:
            raise Conflict("This username is taken.", field="username")
        name = wanted or await _free_username(session, email)
        user = User(
            email=email,
            username=name,
            display_name=_display_name(display_name) if display_name else name,
            password_hash=password_hash,
            role=role.value,
            status=Status.ACTIVE.value,
        )
        session.add(user)
    return user


async def get_user(db: Database, user_id: str) -> User | None:
    async with db.reader() as session:
        return await session.get(User, user_id)


async def users_by_id(db: Database, user_ids: set[str]) -> dict[str, User]:
    """The accounts among `user_ids` (owner ids of images), by id; ids that are no account are left out."""
    if not user_ids:
        return {}
    async with db.reader() as session:
        found = await session.scalars(select(User).where(User.id.in_(sorted(user_ids))))
        return {user.id: user for user in found}


async def find_user(db: Database, login: str) -> User | None:
    """By username or email, case-insensitively."""
    login = login.strip().lower()
    if not login or len(login) > 254:
        return None
    async with db.reader() as session:
        return await session.scalar(select(User).where(or_(User.email == login, User.username == login)))


async def require_user(db: Database, login_or_id: str) -> User:
    user = await find_user(db, login_or_id) or await get_user(db, login_or_id)
    if user is None:
        raise NotFound("No such user.", field="user")
    return user


async def list_users(db: Database, *, limit: int = 100, offset: int = 0) -> tuple[list[User], int]:
    async with db.reader() as session:
        rows = await session.scalars(select(User).order_by(User.created_at, User.id).offset(offset).limit(limit))
        total = await session.scalar(select(func.count()).select_from(User))
    return list(rows), int(total or 0)


async def verify_login(accounts: Accounts, *, login: str, password: str) -> User:
    """The active account these credentials open; one generic 401 for every failure (no account probing).

    Costs one password hash even when the account does not exist. Rehashes when the parameters changed.
    """
    user = await find_user(accounts.db, login)
    ok = accounts.passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.status != Status.ACTIVE:
        raise Unauthorized("Wrong username/email or password, or the account is not active.")
    async with accounts.db.writer() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.last_login_at = utcnow()
        if accounts.passwords.needs_rehash(row.password_hash):
            row.password_hash = accounts.passwords.hash_password(password)
    return row


async def update_profile(
    db: Database, user_id: str, *, display_name: str | None = None, email: str | None = None
) -> User:
    async with db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        if display_name is not None:
            user.display_name = _display_name(display_name)
        if email is not None:
            email = normalize_email(email)
            taken = await session.scalar(select(User.id).where(User.email == email, User.id != user_id))
            if taken is not None:
                raise Conflict("An account with this email already exists.", field="email")
            user.email = email
    return user


async def change_password(accounts: Accounts, user_id: str, *, current: str, new: str) -> User:
    """Needs the current password. The caller revokes the account's other sessions."""
    user = await get_user(accounts.db, user_id)
    if user is None or not accounts.passwords.verify_password(user.password_hash, current):
        raise Unauthorized("The current password is wrong.", field="currentPassword")
    accounts.policy.check(new, username=user.username, email=user.email)
    new_hash = accounts.passwords.hash_password(new)
    async with accounts.db.writer() as session:
        row = await session.get(User, user_id)
        assert row is not None
        row.password_hash = new_hash
        row.password_changed_at = utcnow()
    return row


async def set_status(db: Database, user_id: str, status: Status) -> User:
    """Anything but active stops the account's sessions and keys; its sessions are also revoked, so reactivating
    the account brings its keys back but not its sign-ins."""
    async with db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        user.status = status.value
    if status is not Status.ACTIVE:
        await sessions.revoke_user_sessions(db, user_id=user_id)
    return user


async def set_quota(db: Database, user_id: str, *, quota_bytes: int | None, quota_images: int | None) -> User:
    """The account's own quotas (None: the client's per-user default; 0: unlimited)."""
    for name, value in (("quotaBytes", quota_bytes), ("quotaImages", quota_images)):
        if value is not None and value < 0:
            raise InvalidInput("A quota is 0 (unlimited) or more.", field=name)
    async with db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        user.quota_bytes, user.quota_images = quota_bytes, quota_images
    return user


async def set_role(db: Database, user_id: str, role: Role) -> User:
    async with db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        user.role = role.value
    return user


async def inactive_status(accounts: Accounts, *, login: str, password: str) -> Status | None:
    """Why the account these credentials name may not sign in (suspended or inactive), or None.

    Only someone who knows the password learns it, so a failed sign-in can say "suspended" instead of the generic
    message without letting anyone probe accounts. Costs a password hash only for accounts that are not active.
    """
    user = await find_user(accounts.db, login)
    if user is None or user.status == Status.ACTIVE:
        return None
    if not accounts.passwords.verify_password(user.password_hash, password):
        return None
    return Status(user.status)
