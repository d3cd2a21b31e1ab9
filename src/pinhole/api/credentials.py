"""Turn a request's credentials into a `Principal`: the one authentication step every API uses.
Which credentials, in what order, and what a wrong one gets: docs/security.md, "Identities"."""

from __future__ import annotations

from starlette.requests import Request

from pinhole.db.models import User
from pinhole.errors import CsrfFailed, InvalidApiKey, InvalidInput, SessionExpired
from pinhole.runtime import Runtime
from pinhole.security.csrf import csrf_matches, csrf_token
from pinhole.security.principal import ANONYMOUS, Principal, Role, Via
from pinhole.services import keys, sessions
from pinhole.services.clients import API_KEY_PREFIX, authenticate_client
from pinhole.services.sessions import SessionKind

SESSION_COOKIE = "pinhole_session"
CSRF_HEADER = "X-CSRF-Token"
API_KEY_HEADER = "X-API-Key"
USER_ID_HEADER = "X-User-Id"
UPLOAD_KEY_HEADER = "X-Upload-Key"
# Every request header that can say who is asking: what a private answer varies by, and what makes the warm fast
# path step aside. The first three carry a key that can be guessed: an address that sent too many bad ones is
# refused before they are read (`api.ratelimit`).
CREDENTIAL_HEADERS = (API_KEY_HEADER, "Authorization", UPLOAD_KEY_HEADER, USER_ID_HEADER, "Cookie")
KEY_HEADERS = CREDENTIAL_HEADERS[:3]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_USER_ID = 255
_STATE_KEY = "pinhole_principal"
_CSRF_REFUSED = "pinhole_csrf_refused"

__all__ = [
    "CREDENTIAL_HEADERS",
    "CSRF_HEADER",
    "KEY_HEADERS",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "account_principal",
    "authenticate",
    "csrf_token",
]


def _external_user(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_USER_ID or not value.isprintable():
        raise InvalidInput("X-User-Id must be 1-255 printable characters.", field="X-User-Id")
    return value


def account_principal(user: User, *, via: Via, credential_id: str) -> Principal:
    return Principal(
        client_id=user.client_id,
        user_id=user.id,
        account_id=user.id,
        role=Role(user.role),
        via=via,
        credential_id=credential_id,
    )


async def _client_key(runtime: Runtime, key: str, user_header: str | None) -> Principal:
    client = await authenticate_client(db=runtime.db, api_key=key)
    if client is None:
        raise InvalidApiKey("The API key is not valid or its client is inactive.", field="X-API-Key")
    return Principal(
        client_id=client.id, user_id=_external_user(user_header), via=Via.CLIENT_KEY, credential_id=client.id
    )


async def _upload_key(runtime: Runtime, key: str) -> Principal:
    found = await keys.authenticate_upload_key(runtime.db, key)
    if found is None:
        raise InvalidApiKey("The upload key is not valid.", field="X-Upload-Key")
    row, user = found
    return account_principal(user, via=Via.UPLOAD_KEY, credential_id=row.id)


async def _bearer(runtime: Runtime, token: str, user_header: str | None) -> Principal:
    if token.startswith(keys.PERSONAL_PREFIX):
        found = await keys.authenticate_personal_key(runtime.db, token)
        if found is None:
            raise InvalidApiKey("The API key is not valid, expired or revoked.", field="Authorization")
        row, user = found
        return account_principal(user, via=Via.PERSONAL_KEY, credential_id=row.id)
    if token.startswith(keys.UPLOAD_PREFIX):
        return await _upload_key(runtime, token)
    if token.startswith(API_KEY_PREFIX):
        return await _client_key(runtime, token, user_header)
    claims = runtime.access_tokens.read(token)
    live = claims and await sessions.live_session(runtime.db, session_id=claims.session_id, user_id=claims.user_id)
    if not live:
        raise SessionExpired("The access token is invalid or expired; refresh it or sign in.", field="Authorization")
    session_row, user = live
    return account_principal(user, via=Via.ACCESS_TOKEN, credential_id=session_row.id)


async def _cookie(runtime: Runtime, request: Request, cookie: str) -> Principal:
    live = await sessions.session_for_token(runtime.db, token=cookie, kind=SessionKind.BROWSER)
    if live is None:
        return ANONYMOUS
    given = request.headers.get(CSRF_HEADER)
    if request.method not in SAFE_METHODS and not csrf_matches(runtime.secret, cookie, given):
        # Not an identity: the request acts as nobody, and `require_csrf` turns that into 403 where it matters.
        setattr(request.state, _CSRF_REFUSED, True)
        return ANONYMOUS
    session_row, user = live
    return account_principal(user, via=Via.SESSION, credential_id=session_row.id)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionExpired("Send `Authorization: Bearer <token>`.", field="Authorization")
    return token.strip()


async def _resolve(request: Request, runtime: Runtime) -> Principal:
    headers = request.headers
    if (api_key := headers.get(API_KEY_HEADER)) is not None:
        return await _client_key(runtime, api_key, headers.get(USER_ID_HEADER))
    if (token := _bearer_token(request)) is not None:
        return await _bearer(runtime, token, headers.get(USER_ID_HEADER))
    if (upload_key := headers.get(UPLOAD_KEY_HEADER)) is not None:
        return await _upload_key(runtime, upload_key)
    if (cookie := request.cookies.get(SESSION_COOKIE)) is not None:
        return await _cookie(runtime, request, cookie)
    return ANONYMOUS


def require_csrf(request: Request) -> None:
    """Refuse (403) a request whose session cookie came without its CSRF token on a state-changing method."""
    if getattr(request.state, _CSRF_REFUSED, False):
        raise CsrfFailed()


async def authenticate(request: Request, runtime: Runtime) -> Principal:
    """The request's principal, resolved once per request (rate limits and routes share it).

    A session cookie without its CSRF token on a state-changing request resolves to anonymous here (so rate limits
    and routes that need nobody, like signing in, still work); routes' principal dependencies call `require_csrf`.
    """
    cached: Principal | None = getattr(request.state, _STATE_KEY, None)
    if cached is None:
        cached = await _resolve(request, runtime)
        setattr(request.state, _STATE_KEY, cached)
    return cached
