"""`FormReader`: the callbacks python-multipart's push parser calls, turned into fields and file sinks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anyio import to_thread
from python_multipart.multipart import parse_options_header

from pinhole.errors import InvalidInput
from pinhole.uploads.form import ParsedForm
from pinhole.uploads.limits import UploadLimits
from pinhole.uploads.sink import FileSink

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


class FormReader:
    """Collects one request's parts; limits are checked in the callbacks, so as soon as bytes arrive."""

    def __init__(self, *, tmp_dir: Path, limits: UploadLimits) -> None:
        self.tmp_dir, self.limits = tmp_dir, limits
        self.fields: dict[str, list[str]] = {}
        self.sinks: list[FileSink] = []
        self.done = False
        self._field_count = 0
        self._headers: dict[bytes, bytes] = {}
        self._header_name = self._header_value = b""
        self._name = ""
        self._value = bytearray()
        self._sink: FileSink | None = None
        self._oversize: int | None = None  # bytes of the file part that passed the limit, while measuring it

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    async def flush(self, *, batch_bytes: int) -> None:
        """Write every buffer holding at least `batch_bytes` (and finish ended files) in one thread hop."""
        ready = [sink for sink in self.sinks if sink.needs_io(batch_bytes)]
        if ready:
            await to_thread.run_sync(_write_all, ready)

    def discard(self) -> None:
        """Close and delete every temp file this request created (blocking: run in a thread)."""
        for sink in self.sinks:
            sink.discard()

    def form(self) -> ParsedForm:
        return ParsedForm(fields=self.fields, files=[sink.result() for sink in self.sinks])

    def _on_part_begin(self) -> None:
        self._headers, self._value, self._sink = {}, bytearray(), None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        kind, options = parse_options_header(self._headers.get(b"content-disposition"))
        if kind != b"form-data" or b"name" not in options:
            raise InvalidInput("Each part needs a 'Content-Disposition: form-data' header with a name.")
        self._name = _decode(options[b"name"], what="field name")
        if b"filename" in options:
            self._start_file(options[b"filename"])
        else:
            self._start_field()

    def _start_file(self, raw_filename: bytes) -> None:
        if len(self.sinks) >= self.limits.max_files:
            raise self.limits.too_many_files(self._name)
        content_type = self._headers.get(b"content-type", b"").decode("latin-1").strip() or None
        self._sink = FileSink(
            tmp_dir=self.tmp_dir,
            field=self._name,
            filename=clean_filename(raw_filename),
            content_type=content_type,
        )
        self.sinks.append(self._sink)

    def _start_field(self) -> None:
        self._field_count += 1
        if self._field_count > self.limits.max_fields:
            raise self.limits.too_many_fields(self._name)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            size = (self._oversize if self._oversize is not None else self._sink.size) + (end - start)
            if size > self.limits.max_file_bytes:
                self._measure(size)
            else:
                self._sink.feed(data[start:end])
        elif len(self._value) + (end - start) > self.limits.max_field_bytes:
            raise self.limits.field_too_large(self._name)
        else:
            self._value += data[start:end]

    def _measure(self, size: int) -> None:
        """Past the limit: refuse at once, or go on counting (the bytes are dropped) until the part ends."""
        if not self.limits.measuring or size > self.limits.measure_file_bytes:
            raise self.limits.file_too_large(self._name)
        self._oversize = size

    def _on_part_end(self) -> None:
        if self._oversize is not None:
            raise self.limits.file_too_large(self._name, size=self._oversize)
        if self._sink is not None:
            self._sink.ended = True
        else:
            value = _decode(bytes(self._value), what=f"value of field {self._name!r}", field=self._name)
            self.fields.setdefault(self._name, []).append(value)

    def _on_end(self) -> None:
        self.done = True


def clean_filename(raw: bytes) -> str | None:
    """The client's file name without any directory part or control characters; None when empty."""
    name = raw.decode("utf-8", errors="replace").replace("\\", "/").rpartition("/")[2]
    name = "".join(char for char in name if char.isprintable()).strip()
    return name[:255] or None


def _decode(raw: bytes, *, what: str, field: str | None = None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"The {what} is not valid UTF-8.", field=field) from None


def _write_all(sinks: list[FileSink]) -> None:
    for sink in sinks:
        sink.write_pending()
