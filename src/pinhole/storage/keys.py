"""Blob keys, made only by code from content hashes and canonical options, never from request input."""

from __future__ import annotations

import hashlib
import re

MAX_KEY_LENGTH = 512
OPTIONS_DIGEST_LENGTH = 16

_KEY = re.compile(r"[a-z0-9._-]+(?:/[a-z0-9._-]+)*")
_PREFIX = re.compile(r"[a-z0-9._/-]*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
PARTIAL_ROOT = "partial/"


def is_valid_key(key: str) -> bool:
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        return False
    return not any(segment in {".", ".."} for segment in key.split("/"))


def validate_key(key: str) -> str:
    """Return `key` unchanged, or raise ValueError: `[a-z0-9._/-]` only, no empty, `.` or `..` segment."""
    if not is_valid_key(key):
        raise ValueError(f"invalid blob key {key[:80]!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: a key's directories, optionally followed by the start of a name."""
    directories, slash, _ = prefix.rpartition("/")
    valid = len(prefix) <= MAX_KEY_LENGTH and _PREFIX.fullmatch(prefix) is not None
    if not valid or (slash and not is_valid_key(directories)):
        raise ValueError(f"invalid blob key prefix {prefix[:80]!r}")
    return prefix


def original_key(content_hash: str) -> str:
    """`originals/ab/cd/<sha256hex>`: two fan-out levels keep directories small."""
    return f"originals/{_fan_out(content_hash)}"


def variants_prefix(content_hash: str) -> str:
    """The prefix under which every variant of one original is stored (to list or delete them)."""
    return f"variants/{_fan_out(content_hash)}/"


def variant_key(content_hash: str, canonical_options: str, extension: str) -> str:
    """`variants/ab/cd/<sha256hex>/<digest of the canonical options>.<ext>`."""
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"invalid variant extension {extension[:20]!r}")
    digest = hashlib.sha256(canonical_options.encode()).hexdigest()[:OPTIONS_DIGEST_LENGTH]
    return f"{variants_prefix(content_hash)}{digest}.{extension}"


def partial_prefix(upload_id: str) -> str:
    """`partial/<upload id>/`: the pieces of one resumable upload that has not received its last byte."""
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise ValueError(f"not a resumable upload id: {upload_id[:80]!r}")
    return f"{PARTIAL_ROOT}{upload_id}/"


def partial_key(upload_id: str, offset: int, nonce: str) -> str:
    """`partial/<upload id>/<offset, 15 digits>-<nonce>`: keys sort by offset; the nonce keeps two writers at one
    offset (a retry racing a slow request) from overwriting each other's piece."""
    if offset < 0 or offset >= 10**15 or not _UPLOAD_ID.fullmatch(nonce):
        raise ValueError(f"invalid piece offset {offset} or nonce {nonce[:80]!r}")
    return f"{partial_prefix(upload_id)}{offset:015d}-{nonce}"


def _fan_out(content_hash: str) -> str:
    if not _SHA256_HEX.fullmatch(content_hash):
        raise ValueError(f"not a lowercase sha256 hex digest: {content_hash[:80]!r}")
    return f"{content_hash[:2]}/{content_hash[2:4]}/{content_hash}"
