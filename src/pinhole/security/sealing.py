"""Secrets the server must use again (HMAC keys of the proxy dialects), sealed at rest with AES-256-GCM under a key
derived from the server secret; a hash would not do, since a signature check needs the key itself.
docs/proxies.md ("Per-client keys") says what changing the server secret does to them."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class UnsealError(ValueError):
    """The sealed value was made under another server secret, or was altered."""


def _cipher(server_secret: str, purpose: str) -> AESGCM:
    key = hashlib.sha256(f"pinhole sealing {purpose}\0{server_secret}".encode()).digest()
    return AESGCM(key)


def seal(plain: bytes, *, server_secret: str, purpose: str) -> str:
    """`plain` encrypted and authenticated; `purpose` (also the associated data) keeps uses apart."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(server_secret, purpose).encrypt(nonce, plain, purpose.encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(text: str, *, server_secret: str, purpose: str) -> bytes:
    version, _, body = text.partition(":")
    if version != VERSION:
        raise UnsealError("unknown sealing version")
    raw = base64.urlsafe_b64decode(body.encode())
    try:
        return _cipher(server_secret, purpose).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except InvalidTag:
        raise UnsealError("sealed under another server secret, or altered") from None
