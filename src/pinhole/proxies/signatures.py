"""The URL signatures of the proxies pinhole imitates, computed as each original computes them; checks are
constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def thumbor_signature(key: bytes, signed_part: str) -> str:
    """thumbor: URL-safe base64 (padded) of HMAC-SHA1(security key, the URL after its signature segment)."""
    return base64.urlsafe_b64encode(hmac.new(key, signed_part.encode(), hashlib.sha1).digest()).decode()


def imgproxy_signature(key: bytes, salt: bytes, path: str) -> str:
    """imgproxy: unpadded URL-safe base64 of HMAC-SHA256(key, salt + path), `path` starting at `/` after the
    signature segment."""
    digest = hmac.new(key, salt + path.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def imgix_signature(token: str, path_and_query: str) -> str:
    """imgix: hex MD5 of token + path (+ `?` + the query without `s`, as sent)."""
    return hashlib.md5((token + path_and_query).encode(), usedforsecurity=False).hexdigest()


def matches(given: str, expected: Iterable[str]) -> bool:
    """Whether `given` equals one of `expected`, each compared in constant time (every one is compared)."""
    found = False
    for candidate in expected:
        found |= hmac.compare_digest(given.encode(), candidate.encode())
    return found


def cloudinary_signature(secret: str, signed_part: str) -> str:
    """Cloudinary delivery URLs: the first 8 characters of URL-safe base64 of SHA-1(transformations/public id +
    API secret), the `SIG` of `s--SIG--`."""
    digest = hashlib.sha1((signed_part + secret).encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode()[:8]


def signed_by(given: str, candidates: Iterable[tuple[T, str]]) -> T | None:
    """The candidate whose expected signature equals `given` (each compared in constant time, every one compared),
    None when none does."""
    found: T | None = None
    for owner, expected in candidates:
        if hmac.compare_digest(given.encode(), expected.encode()):
            found = owner
    return found
