"""`FileSink`: one file part on its way to a temp file, buffered on the event loop, written in a thread."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from pinhole.uploads.form import UploadedFile


class FileSink:
    """`feed` runs in parser callbacks (no I/O); `write_pending` and `discard` run in a worker thread."""

    def __init__(self, *, tmp_dir: Path, field: str, filename: str | None, content_type: str | None) -> None:
        self.field, self.filename, self.content_type = field, filename, content_type
        self.path = tmp_dir / f"upload-{secrets.token_hex(16)}.part"
        self.size = 0
        self.ended = False
        self._pending = bytearray()
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._closed = False

    def feed(self, data: bytes) -> None:
        self._pending += data
        self.size += len(data)

    def needs_io(self, batch_bytes: int) -> bool:
        full = bool(self._pending) and len(self._pending) >= batch_bytes
        return full or (self.ended and not self._closed)

    def write_pending(self) -> None:
        if self._file is None:
            self._file = _create(self.path)
        # The event loop awaits this call, so no callback appends to the buffer meanwhile.
        self._file.write(self._pending)
        self._hash.update(self._pending)
        self._pending.clear()
        if self.ended:
            self._file.close()
            self._closed = True

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self.path.unlink(missing_ok=True)

    def result(self) -> UploadedFile:
        return UploadedFile(
            field=self.field,
            filename=self.filename,
            content_type=self.content_type,
            path=self.path,
            size=self.size,
            sha256=self._hash.hexdigest(),
        )


def _create(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
