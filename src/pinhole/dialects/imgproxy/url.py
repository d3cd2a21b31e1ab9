"""imgproxy's URL grammar: `/<signature>/<option>/<option>.../plain/<source>[@<ext>]` or
`/<signature>/<option>.../<base64url source, may be split by />[.<ext>]`. Options are `name:arg:arg`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from pinhole.errors import InvalidTransform


@dataclass(frozen=True)
class Option:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class ImgproxyUrl:
    signature: str
    signed_path: str  # from the `/` after the signature: what HMAC(key, salt + path) covers
    options: tuple[Option, ...]
    source: str
    extension: str | None


def parse(path: str) -> ImgproxyUrl:
    """`path` is the raw URL path after the dialect's prefix, starting with `/`."""
    signature, _, rest = path.removeprefix("/").partition("/")
    if not signature or not rest:
        raise InvalidTransform("Invalid URL: expected /<signature>/<options>/<source>.")
    parts = rest.split("/")
    options: list[Option] = []
    for index, part in enumerate(parts):
        if part == "plain":
            source, extension = _plain("/".join(parts[index + 1 :]))
            break
        if ":" not in part:
            source, extension = _encoded("".join(parts[index:]))
            break
        name, *args = part.split(":")
        options.append(Option(name, tuple(args)))
    else:
        raise InvalidTransform("Invalid URL: no source image.")
    return ImgproxyUrl(signature, "/" + rest, tuple(options), source, extension)


def _plain(text: str) -> tuple[str, str | None]:
    source, at, extension = unquote(text).rpartition("@")
    if not at:
        source, extension = extension, ""
    if not source:
        raise InvalidTransform("Invalid URL: no source image.")
    return source, extension or None


def _encoded(text: str) -> tuple[str, str | None]:
    encoded, dot, extension = text.partition(".")
    try:
        source = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidTransform("Invalid URL: the source is not valid base64url.") from None
    return source, (extension or None) if dot else None
