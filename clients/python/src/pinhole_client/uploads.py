"""Upload sources with progress: a file read through a counting wrapper, so httpx's multipart stream reports
each chunk it sends to `progress(sent, total)`."""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Progress = Callable[[int, int], None]
TUS_THRESHOLD = 64 * 1024 * 1024  # larger files go through tus when the server offers it


class ProgressReader(io.RawIOBase):
    """A read-only file that tells `progress` how many bytes have been read of how many."""

    def __init__(self, raw: IO[bytes], total: int, progress: Progress | None) -> None:
        self._raw = raw
        self.total = total
        self._progress = progress

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if self._progress is not None and chunk:
            self._progress(self._raw.tell(), self.total)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_source(
    source: str | os.PathLike[str] | bytes, filename: str | None, progress: Progress | None
) -> tuple[str, ProgressReader, str]:
    """(file name, reader, content type) for a path or raw bytes."""
    if isinstance(source, bytes):
        name = filename or "upload"
        raw: IO[bytes] = io.BytesIO(source)
        total = len(source)
    else:
        path = Path(source)
        name = filename or path.name
        raw = path.open("rb")
        total = path.stat().st_size
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, ProgressReader(raw, total, progress), kind


def upload_fields(
    *, tags: list[str] | tuple[str, ...], private: bool, album: str | None, description: str | None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"isPrivate": "true" if private else "false"}
    if tags:
        fields["tags"] = ",".join(tags)
    if album:
        fields["albumId"] = album
    if description:
        fields["description"] = description
    return fields
