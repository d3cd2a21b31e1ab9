"""Naming a downloaded image from the server's answer: its Content-Disposition file name when it gives one,
else the image id with the extension of its Content-Type (`img_8f3a2c.webp`)."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath, PureWindowsPath

import httpx

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/tiff": "tiff",
    "image/jxl": "jxl",
    "image/svg+xml": "svg",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str
    filename: str  # a bare file name, safe to create in the current directory


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    found = message.get_filename()  # decodes RFC 2231 `filename*=UTF-8''...` too
    if not found:
        return None
    # The server names a file, never a place: keep the last path part, only plain characters, no leading dot.
    bare = PureWindowsPath(PurePosixPath(found).name).name
    cleaned = _UNSAFE.sub("_", bare).strip(" .")
    return cleaned or None


def extension(content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    guessed = mimetypes.guess_extension(kind) if kind else None
    return EXTENSIONS.get(kind) or (guessed.lstrip(".") if guessed else "bin")


def suggested_filename(image_id: str, response: httpx.Response) -> str:
    named = _disposition_name(response.headers.get("content-disposition"))
    safe_id = _UNSAFE.sub("_", image_id).strip(" .") or "image"
    return named or f"{safe_id}.{extension(response.headers.get('content-type', ''))}"
