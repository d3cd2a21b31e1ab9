"""Signing in and out, for every API dialect: the back-off, the password check, and the session it opens.

API sessions hand out a short-lived JWT access token and a rotating refresh token; browser sessions a cookie value
and its CSRF token. Routes only parse and shape: the paths, cookies and bodies are theirs, the rules are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pinhole.db.engine import Database
from pinhole.db.models import User
from pinhole.errors import CsrfFailed, Forbidden, SessionExpired, WeakPassword
from pinhole.security.backoff import LoginBackoff
from pinhole.security.csrf import csrf_matches, csrf_token
from pinhole.security.principal import Role
from pinhole.security.tokens import AccessTokens
from pinhole.services import sessions, users
from pinhole.services.sessions import IssuedSession, SessionKind
from pinhole.services.users import Accounts


@dataclass(frozen=True)
class Signin:
    """What signing in needs, taken from the runtime's long-lived parts."""

    accounts: Accounts
    backoff: LoginBackoff
    access_tokens: AccessTokens
    secret: str
    api_lifetime: timedelta
    browser_lifetime: timedelta

    @property
    def db(self) -> Database:
        return self.accounts.db


@dataclass(frozen=True)
class ApiTokens:
    access_token: str
    refresh_token: str  # shown once; only its hash is stored
    expires_in: int  # seconds the access token lives
    refresh_expires_at: datetime  # when the session ends, however often it is refreshed
    session_id: str
    user: User


@dataclass(frozen=True)
class BrowserSession:
    cookie: str  # the cookie value; only its hash is stored
    csrf_token: str
    expires_at: datetime
    max_age: int  # seconds the cookie has left, counted from when it was issued
    session_id: str
    user: User


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN.value:
        raise Forbidden("This account is not an admin; sign in with the account API instead.")


async def _backoff_account(signin: Signin, login: str) -> str:
    """The key the account counter uses: the account's id, so its username and email share one counter."""
    user = await users.find_user(signin.db, login)
    return user.id if user is not None else login.strip().casefold()


async def sign_in(signin: Signin, *, login: str, password: str, address: str, admin_only: bool = False) -> User:
    """The active account these credentials open, through the back-off (429 before any password is checked).

    A wrong password counts against the account and the address; a right one clears the account's count. The
    admin portal then refuses a non-admin with 403: the password was right, so nothing is given away.
    """
    account = await _backoff_account(signin, login)
    await signin.backoff.check(account, address)
    verified = False
    try:
        user = await users.verify_login(signin.accounts, login=login, password=password)
        verified = True
    finally:
        # Whatever else happened (a database error too), the attempt must leave the in-flight count.
        if verified:
            await signin.backoff.record_success(account, address)
        else:
            await signin.backoff.record_failure(account, address)
    if admin_only:
        require_admin(user)
    return user


def _api_tokens(signin: Signin, issued: IssuedSession) -> ApiTokens:
    user, row = issued.user, issued.session
    access, _ = signin.access_tokens.issue(user_id=user.id, session_id=row.id, role=user.role)
    return ApiTokens(
        access_token=access,
        refresh_token=issued.token,
        expires_in=signin.access_tokens.lifetime_seconds,
        refresh_expires_at=row.expires_at,
        session_id=row.id,
        user=user,
    )


async def open_api_session(signin: Signin, *, user: User, user_agent: str | None) -> ApiTokens:
    issued = await sessions.start_session(
        signin.db, user=user, kind=SessionKind.API, lifetime=signin.api_lifetime, user_agent=user_agent
    )
    return _api_tokens(signin, issued)


async def refresh_api_session(signin: Signin, *, refresh_token: str, admin_only: bool = False) -> ApiTokens:
    """A new access token and the next refresh token; a refresh token used twice ends its session (401)."""
    issued = await sessions.rotate(
        signin.db, token=refresh_token, kind=SessionKind.API, check=require_admin if admin_only else None
    )
    return _api_tokens(signin, issued)


async def end_api_session(signin: Signin, *, refresh_token: str) -> None:
    await sessions.end_session(signin.db, token=refresh_token, kind=SessionKind.API)


def _browser_session(signin: Signin, issued: IssuedSession) -> BrowserSession:
    return BrowserSession(
        cookie=issued.token,
        csrf_token=csrf_token(signin.secret, issued.token),
        expires_at=issued.session.expires_at,
        max_age=max(0, int((issued.session.expires_at - issued.session.last_used_at).total_seconds())),
        session_id=issued.session.id,
        user=issued.user,
    )


async def open_browser_session(
    signin: Signin, *, user: User, user_agent: str | None, replacing: str | None = None
) -> BrowserSession:
    """A new session; `replacing` is the cookie the browser had, whose session ends (one live session per browser)."""
    if replacing:
        await sessions.end_session(signin.db, token=replacing, kind=SessionKind.BROWSER)
    issued = await sessions.start_session(
        signin.db, user=user, kind=SessionKind.BROWSER, lifetime=signin.browser_lifetime, user_agent=user_agent
    )
    return _browser_session(signin, issued)


def check_csrf(signin: Signin, *, cookie: str, given: str | None) -> None:
    if not csrf_matches(signin.secret, cookie, given):
        raise CsrfFailed()


async def current_browser_session(signin: Signin, *, cookie: str) -> BrowserSession:
    """The live session of a cookie, with its CSRF token (for a page that was reloaded); 401 otherwise."""
    live = await sessions.session_for_token(signin.db, token=cookie, kind=SessionKind.BROWSER)
    if live is None:
        raise SessionExpired()
    row, user = live
    return _browser_session(signin, IssuedSession(session=row, user=user, token=cookie))


async def refresh_browser_session(signin: Signin, *, cookie: str, csrf: str | None) -> BrowserSession:
    """The next cookie and CSRF token. The CSRF token is checked first, so another site cannot rotate it."""
    check_csrf(signin, cookie=cookie, given=csrf)
    issued = await sessions.rotate(signin.db, token=cookie, kind=SessionKind.BROWSER)
    return _browser_session(signin, issued)


async def end_browser_session(signin: Signin, *, cookie: str, csrf: str | None) -> None:
    check_csrf(signin, cookie=cookie, given=csrf)
    await sessions.end_session(signin.db, token=cookie, kind=SessionKind.BROWSER)


async def change_password(
    signin: Signin, *, user_id: str, current: str, new: str, address: str, keep_session: str | None
) -> User:
    """Change the password and end every other session of the account.

    The current password is guessed through the same back-off as sign-in, so a stolen access token cannot be
    used to find the password. A new password that breaks the policy is refused (WeakPassword) after the current
    one was found right, which counts as a success.
    """
    await signin.backoff.check(user_id, address)
    verified = False
    try:
        user = await users.change_password(signin.accounts, user_id, current=current, new=new)
        verified = True
    except WeakPassword:
        verified = True  # the policy is checked only once the current password was found right
        raise
    finally:
        if verified:
            await signin.backoff.record_success(user_id, address)
        else:
            await signin.backoff.record_failure(user_id, address)
    await sessions.revoke_user_sessions(signin.db, user_id=user_id, keep=keep_session)
    return user
