"""JWT access tokens: short-lived, HS256 under a key derived from the server secret, bound to a session.

Claims: `sub` (user id), `sid` (session id), `role`, `iat`, `exp`, `typ` = "access". The session is checked on
every use, so logout and revocation take effect at once, not at expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from pinhole.security.signing import derive_key

ACCESS_PURPOSE = "jwt-access/v1"
ALGORITHM = "HS256"
ISSUER = "pinhole"
LEEWAY_SECONDS = 5

Clock = Callable[[], float]


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    role: str
    expires_at: int


class AccessTokens:
    def __init__(self, secret: str, *, lifetime_seconds: int, clock: Clock = time.time) -> None:
        self._key = derive_key(secret, ACCESS_PURPOSE)
        self._lifetime = lifetime_seconds
        self._clock = clock

    @property
    def lifetime_seconds(self) -> int:
        return self._lifetime

    def issue(self, *, user_id: str, session_id: str, role: str) -> tuple[str, int]:
        """A token and its expiry (epoch seconds)."""
        now = int(self._clock())
        expires_at = now + self._lifetime
        claims = {
            "sub": user_id,
            "sid": session_id,
            "role": role,
            "iat": now,
            "exp": expires_at,
            "iss": ISSUER,
            "typ": "access",
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at

    def read(self, token: str) -> AccessClaims | None:
        """The claims of a valid, unexpired access token; None for anything else (never raises)."""
        if len(token) > 4096 or token.count(".") != 2:
            return None
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock (tests move it); PyJWT would read the wall clock.
                options={"require": ["sub", "sid", "exp", "iat", "typ"], "verify_iat": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != "access" or not isinstance(claims["exp"], int):
            return None
        if claims["exp"] + LEEWAY_SECONDS <= self._clock():
            return None
        return AccessClaims(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            role=str(claims.get("role", "user")),
            expires_at=int(claims["exp"]),
        )
