"""The tus 1.0 resumable upload protocol's headers: parsing what clients send, shaping what they are answered.

Pure functions, no I/O: the routes (`pinhole.dialects.v2.uploads`) call these and the service
(`pinhole.services.resumable`) does the work. Extensions spoken: creation, creation-with-upload, termination,
expiration, checksum (sha1, sha256, sha512, md5, crc32). Not creation-defer-length: the size limit and quotas are
checked when an upload is created, from its length. https://tus.io/protocols/resumable-upload
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Protocol

from starlette.datastructures import Headers

from pinhole.errors import InvalidInput, UnsupportedMediaType, UnsupportedProtocolVersion

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "sha512", "md5", "crc32")
PATCH_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_CHARS = 8192


def check_version(headers: Headers) -> None:
    """Every request but OPTIONS names the protocol version it speaks."""
    if headers.get("tus-resumable") != VERSION:
        raise UnsupportedProtocolVersion(f"Send Tus-Resumable: {VERSION}.", field="Tus-Resumable")


def carries_bytes(headers: Headers) -> bool:
    """Whether a request's body is upload bytes (`application/offset+octet-stream`)."""
    return (headers.get("content-type") or "").split(";")[0].strip().lower() == PATCH_CONTENT_TYPE


def check_patch_content_type(headers: Headers) -> None:
    if not carries_bytes(headers):
        raise UnsupportedMediaType(f"A PATCH body must be sent as {PATCH_CONTENT_TYPE}.", field="Content-Type")


def read_number(headers: Headers, name: str) -> int:
    """A required non-negative integer header (`Upload-Length`, `Upload-Offset`)."""
    value = headers.get(name)
    if value is None:
        if name.lower() == "upload-length" and headers.get("upload-defer-length") is not None:
            raise InvalidInput("Upload-Defer-Length is not supported: send Upload-Length.", field=name)
        raise InvalidInput(f"The {name} header is required.", field=name)
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"The {name} header must be a non-negative integer.", field=name)
    return int(value)


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs (a key alone means an empty value)."""
    if header is None or not header.strip():
        return {}
    if len(header) > MAX_METADATA_CHARS:
        raise InvalidInput(f"Upload-Metadata is longer than {MAX_METADATA_CHARS} characters.", field="Upload-Metadata")
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not key or key in pairs or " " in encoded.strip():
            raise InvalidInput(
                "Upload-Metadata is not a list of distinct `key base64value` pairs.", field="Upload-Metadata"
            )
        pairs[key] = _decode_value(key, encoded.strip())
    return pairs


def _decode_value(key: str, encoded: str) -> str:
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput(f"Upload-Metadata {key!r} is not base64-encoded UTF-8.", field="Upload-Metadata") from None


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class Crc32:
    """CRC-32 (zlib's, as tusd computes it) with hashlib's interface; its digest is the 4 bytes, big-endian."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


@dataclass(frozen=True)
class Checksum:
    """An `Upload-Checksum` header: the digest the PATCH body must have."""

    algorithm: str
    digest: bytes

    def hasher(self) -> Hasher:
        return Crc32() if self.algorithm == "crc32" else hashlib.new(self.algorithm)


def parse_checksum(header: str | None) -> Checksum | None:
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidInput(
            f"Unsupported checksum algorithm: use one of {', '.join(CHECKSUM_ALGORITHMS)}.", field="Upload-Checksum"
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise InvalidInput("The Upload-Checksum digest is not base64.", field="Upload-Checksum") from None
    return Checksum(algorithm=algorithm, digest=digest)


def http_date(moment: datetime) -> str:
    """`Upload-Expires` is an HTTP date (RFC 9110), e.g. `Wed, 25 Jun 2025 16:00:00 GMT`."""
    return format_datetime(moment, usegmt=True)


def discovery_headers(max_size: int) -> dict[str, str]:
    """What OPTIONS answers: the versions, extensions, size limit and checksum algorithms of this server."""
    return {
        "Tus-Resumable": VERSION,
        "Tus-Version": VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }
