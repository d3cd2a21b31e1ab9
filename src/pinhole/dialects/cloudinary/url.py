"""Cloudinary delivery URLs: `/<cloud>/image/upload/[s--SIG--/][<transformation>/...][v<version>/]<public_id>[.<ext>]`.

A segment is a transformation when each of its comma-separated parts is `<key>_<value>` with a short lower-case
key; the first segment that is not (or `v<digits>`) starts the public id, which may hold folders. Fetch URLs
(`/image/fetch/[s--SIG--/][<transformation>/...]<remote URL>`) name a remote origin instead, escaped as the SDKs
escape it (`parse_fetch`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from pinhole.errors import InvalidTransform

_SIGNATURE = re.compile(r"^s--([A-Za-z0-9_-]{8,32})--$")
_PARAM = re.compile(r"^[a-z]{1,3}_[^,]+$")
_VERSION = re.compile(r"^v\d+$")


@dataclass(frozen=True)
class CloudinaryUrl:
    signature: str | None
    signed_part: str  # transformations and public id (with its extension), without the version
    transformations: tuple[dict[str, str], ...]
    public_id: str
    extension: str | None


def _is_transformation(segment: str) -> bool:
    return all(_PARAM.match(part) for part in segment.split(","))


def parse(path: str) -> CloudinaryUrl:
    """`path` is what follows `/image/upload/`, still percent-encoded."""
    segments = [segment for segment in path.split("/") if segment]
    signature = None
    if segments and (found := _SIGNATURE.match(segments[0])):
        signature, segments = found.group(1), segments[1:]
    transformations: list[str] = []
    while len(segments) > 1 and _is_transformation(segments[0]):
        transformations.append(segments.pop(0))
    if len(segments) > 1 and _VERSION.match(segments[0]):
        segments.pop(0)
    if not segments:
        raise InvalidTransform("No public id in the URL.")
    named = "/".join(segments)
    public_id, dot, extension = unquote(named).rpartition(".")
    if not dot:
        public_id, extension = extension, ""
    return CloudinaryUrl(
        signature=signature,
        signed_part="/".join([*transformations, named]),
        transformations=tuple(_params(segment) for segment in transformations),
        public_id=public_id,
        extension=extension or None,
    )


def _params(segment: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in segment.split(","):
        key, _, value = part.partition("_")
        found[key] = unquote(value)
    return found


def parse_fetch(path: str) -> CloudinaryUrl:
    """`path` is what follows `/image/fetch/`, still percent-encoded; the public id is the remote URL."""
    signature = None
    head, slash, rest = path.partition("/")
    if slash and (found := _SIGNATURE.match(head)):
        signature, path = found.group(1), rest
    transformations: list[str] = []
    while True:
        head, slash, rest = path.partition("/")
        if not slash or not _is_transformation(head):
            break
        transformations.append(head)
        path = rest
    if not path:
        raise InvalidTransform("No URL to fetch.")
    return CloudinaryUrl(
        signature=signature,
        signed_part="/".join([*transformations, path]),
        transformations=tuple(_params(segment) for segment in transformations),
        public_id=unquote(path),
        extension=None,
    )
