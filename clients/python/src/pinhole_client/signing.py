"""Signing variant URLs locally with a signing key (`id:secret`, as in the server's PINHOLE_SIGNING__KEYS).

The same MAC the server checks (pinhole's `security/signing.py`, docs/security.md): the secret goes through
HKDF-SHA256 with info `pinhole/url-signature/v1`; the MAC is HMAC-SHA256 over the length-prefixed fields
(key id, image id, canonical options, expiry or empty), sent as `sig=<key id>.<base64url MAC>` and `exp`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re

from pinhole_client.urls import Transform

PURPOSE = "url-signature/v1"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _hkdf_sha256(secret: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.digest(bytes(32), secret, hashlib.sha256)
    block, output = b"", b""
    for counter in range(1, math.ceil(length / 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        output += block
    return output[:length]


class Signer:
    """Signs with one key: `Signer.parse("k1:secret")` or `Signer("k1", "secret")`."""

    def __init__(self, key_id: str, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError("a signing key id is 1-32 of A-Z a-z 0-9 _ -")
        if len(raw) < 32:
            raise ValueError("a signing key is at least 32 bytes")
        self.key_id = key_id
        self._key = _hkdf_sha256(raw, f"pinhole/{PURPOSE}".encode())

    @classmethod
    def parse(cls, key: str) -> Signer:
        key_id, colon, secret = key.partition(":")
        if not colon:
            raise ValueError("a signing key looks like `id:secret`")
        return cls(key_id, secret)

    def sign(self, image_id: str, transform: Transform, *, expires_at: int | None = None) -> dict[str, str]:
        """The `sig` (and `exp`) query parameters for this variant of this image."""
        fields = [self.key_id, image_id, transform.canonical(), "" if expires_at is None else str(expires_at)]
        message = b"".join(b"%d:%s," % (len(raw), raw) for raw in (field.encode() for field in fields))
        mac = base64.urlsafe_b64encode(hmac.digest(self._key, message, hashlib.sha256)).rstrip(b"=").decode()
        params = {"sig": f"{self.key_id}.{mac}"}
        if expires_at is not None:
            params["exp"] = str(expires_at)
        return params
