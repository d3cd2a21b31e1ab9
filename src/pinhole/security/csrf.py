"""CSRF tokens of browser sessions: a MAC of the current session cookie under a key derived from the server secret.

Nothing extra is stored: the token is recomputed from the cookie, and it changes whenever the cookie rotates.
"""

from __future__ import annotations

import base64
import hmac

from pinhole.security.secrets import hash_token
from pinhole.security.signing import derive_key

CSRF_PURPOSE = "csrf/v1"


def csrf_token(secret: str, session_token: str) -> str:
    mac = hmac.digest(derive_key(secret, CSRF_PURPOSE), hash_token(session_token).encode(), "sha256")
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_matches(secret: str, session_token: str, given: str | None) -> bool:
    """Whether `given` is the CSRF token of this cookie (constant time)."""
    return hmac.compare_digest((given or "").encode(), csrf_token(secret, session_token).encode())
