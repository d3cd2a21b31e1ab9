"""Signed transform URLs: HMAC-SHA256 over (image id, canonical transform options, optional expiry).

A signed URL carries `sig=<key id>.<base64url MAC>` and, when it expires, `exp=<epoch seconds>`. The first
configured key signs and every configured key verifies, so rotation is: put the new key first, keep the old one
until the URLs it signed may lapse, then drop it. Each configured secret is only ever input to HKDF-SHA256 with a
fixed purpose; the derived key signs, so the server secret itself never does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from pinhole.errors import ExpiredSignature, InvalidSignature, MissingSignature, UnknownSigningKey
from pinhole.observability.telemetry import record_signature_refusal
from pinhole.security.policy import Owned, can_transform_freely
from pinhole.security.principal import Principal

Clock = Callable[[], float]
URL_SIGNATURE_PURPOSE = "url-signature/v1"
MIN_SECRET_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MAC = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding
_EXPIRY = re.compile(r"[0-9]{1,12}")


class SigningMode(StrEnum):
    """Which transform requests need a signature: none, anonymous callers' only, or everyone's."""

    OFF = "off"
    ANONYMOUS = "anonymous"
    ALL = "all"


class Transform(Protocol):
    """What signing needs of transform options (`imaging.options.TransformOptions` is one)."""

    @property
    def is_identity(self) -> bool: ...
    def canonical(self) -> str: ...


def hkdf_sha256(secret: bytes, *, info: bytes, salt: bytes = b"", length: int = 32) -> bytes:
    """HKDF (RFC 5869) with SHA-256: extract, then expand to `length` bytes."""
    if not 1 <= length <= 255 * 32:
        raise ValueError("HKDF-SHA256 gives 1 to 8160 bytes")
    prk = hmac.digest(salt or bytes(32), secret, hashlib.sha256)
    block, output = b"", b""
    for counter in range(1, math.ceil(length / 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        output += block
    return output[:length]


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so no two uses of the server secret share a key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hkdf_sha256(raw, info=f"pinhole/{purpose}".encode())


def signature_required(
    mode: SigningMode, *, principal: Principal, image: Owned, options: Transform, token_grants: bool = False
) -> bool:
    """Whether this transform request must carry a valid signature.

    Never for the image's owner, a share-token holder, or an identity request (the original as stored).
    """
    if mode is SigningMode.OFF or options.is_identity or token_grants:
        return False
    if can_transform_freely(principal, image):
        return False
    return mode is SigningMode.ALL or principal.is_anonymous


class UrlSigner:
    """Signs with the first of `keys` (pairs of key id and secret) and verifies with any of them."""

    def __init__(self, keys: Sequence[tuple[str, str | bytes]], *, clock: Clock = time.time) -> None:
        if not keys:
            raise ValueError("URL signing needs at least one key")
        self._keys = {key_id: derive_key(_checked(key_id, secret), URL_SIGNATURE_PURPOSE) for key_id, secret in keys}
        if len(self._keys) != len(keys):
            raise ValueError("URL signing key ids must be unique")
        self._current = keys[0][0]
        self.clock = clock

    def sign(self, image_id: str, options: Transform, *, expires_at: int | None = None) -> dict[str, str]:
        """The query parameters (`sig`, and `exp` when given) that authorise this transform of this image."""
        if expires_at is not None and not _EXPIRY.fullmatch(str(expires_at)):
            raise ValueError("expires_at must be epoch seconds of at most 12 digits")
        params = {"sig": f"{self._current}.{self._mac(self._current, image_id, options, expires_at)}"}
        if expires_at is not None:
            params["exp"] = str(expires_at)
        return params

    def verify(self, image_id: str, options: Transform, *, sig: str | None, exp: str | None = None) -> float | None:
        """Check the raw `sig` and `exp` query values; raise an InvalidSignature subclass saying why not.

        Returns the seconds the signature stays valid, None when it never expires.
        """
        try:
            return self._verify(image_id, options, sig=sig, exp=exp)
        except InvalidSignature as refused:
            record_signature_refusal(refused.code)  # counted here: some routes answer a refusal with a fallback
            raise

    def _verify(self, image_id: str, options: Transform, *, sig: str | None, exp: str | None) -> float | None:
        if not sig:
            raise MissingSignature()
        key_id, given = _parse_signature(sig)
        expires_at = _parse_expiry(exp)
        if key_id not in self._keys:
            raise UnknownSigningKey()
        if not hmac.compare_digest(given, self._mac(key_id, image_id, options, expires_at)):
            raise InvalidSignature()
        if expires_at is None:
            return None
        left = expires_at - self.clock()
        if left <= 0:
            raise ExpiredSignature()
        return left

    def _mac(self, key_id: str, image_id: str, options: Transform, expires_at: int | None) -> str:
        fields = [key_id, image_id, options.canonical(), "" if expires_at is None else str(expires_at)]
        # Length-prefixed fields: no choice of id can make two different requests sign the same bytes.
        message = b"".join(b"%d:%s," % (len(raw), raw) for raw in (field.encode() for field in fields))
        mac = hmac.digest(self._keys[key_id], message, hashlib.sha256)
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _checked(key_id: str, secret: str | bytes) -> str | bytes:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"URL signing key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ -")
    if len(secret.encode() if isinstance(secret, str) else secret) < MIN_SECRET_BYTES:
        raise ValueError(f"URL signing key {key_id!r} must be at least {MIN_SECRET_BYTES} bytes")
    return secret


def _parse_signature(sig: str) -> tuple[str, str]:
    key_id, dot, mac = sig.partition(".")
    if not dot or not _KEY_ID.fullmatch(key_id) or not _MAC.fullmatch(mac):
        raise InvalidSignature()
    return key_id, mac


def _parse_expiry(exp: str | None) -> int | None:
    if exp is None:
        return None
    if not _EXPIRY.fullmatch(exp):
        raise InvalidSignature("The URL expiry is malformed.", field="exp")
    return int(exp)
