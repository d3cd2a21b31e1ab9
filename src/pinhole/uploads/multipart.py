"""`parse_multipart`: stream a request body through python-multipart's push parser into temp files.

Used by every upload API instead of `await request.form()`, which spools whole files with no byte limit.
A part with a `filename` parameter is a file (even with an empty name or no bytes); any other part is a
text field, decoded as UTF-8 whatever charset the client claims.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request

from pinhole.errors import InvalidInput
from pinhole.uploads.form import ParsedForm, UploadedFile
from pinhole.uploads.limits import UploadLimits
from pinhole.uploads.reader import FormReader

__all__ = ["ParsedForm", "UploadedFile", "parse_multipart", "receive_multipart"]

# Bytes buffered per file before a worker thread writes them: few thread hops, bounded memory.
WRITE_BATCH_BYTES = 1024 * 1024


async def parse_multipart(
    request: Request,
    *,
    tmp_dir: Path,
    max_file_bytes: int,
    max_files: int = 10,
    max_fields: int = 100,
    max_field_bytes: int = 65536,
    measure_file_bytes: int = 0,
) -> ParsedForm:
    """Parse a multipart/form-data body; the caller owns the temp files and must `cleanup()` the form.

    Raises `PayloadTooLarge` as soon as a file passes `max_file_bytes` (or Content-Length rules the body
    out), `InvalidInput` for anything malformed, truncated or over the other limits; on any error every
    temp file created so far is deleted. With `measure_file_bytes` above `max_file_bytes`, a file past the
    limit is read on (its bytes dropped, nothing written) to its end, so the error's `details["size"]` is its
    real size; past `measure_file_bytes` the error comes at once, with no size. Content-Length is then no
    reason to refuse early (it may be absent or wrong): the bytes counted decide.
    """
    limits = UploadLimits(max_file_bytes, max_files, max_fields, max_field_bytes, measure_file_bytes)
    boundary = _boundary(request.headers)
    _check_content_length(request.headers, limits)
    reader = FormReader(tmp_dir=tmp_dir, limits=limits)
    try:
        await _read_body(request, boundary, reader)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(reader.discard)
        raise
    return reader.form()


@asynccontextmanager
async def receive_multipart(
    request: Request,
    *,
    tmp_dir: Path,
    max_file_bytes: int,
    max_files: int = 10,
    max_fields: int = 100,
    max_field_bytes: int = 65536,
    measure_file_bytes: int = 0,
) -> AsyncIterator[ParsedForm]:
    """`parse_multipart` whose temp files are deleted when the block exits, however it exits."""
    form = await parse_multipart(
        request,
        tmp_dir=tmp_dir,
        max_file_bytes=max_file_bytes,
        max_files=max_files,
        max_fields=max_fields,
        max_field_bytes=max_field_bytes,
        measure_file_bytes=measure_file_bytes,
    )
    try:
        yield form
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(form.cleanup)


async def _read_body(request: Request, boundary: bytes, reader: FormReader) -> None:
    received, max_body = 0, reader.limits.max_body_bytes
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        async with aclosing(request.stream()) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                if received > max_body:
                    raise reader.limits.body_too_large()
                parser.write(chunk)
                await reader.flush(batch_bytes=WRITE_BATCH_BYTES)
                if reader.done:
                    break  # the epilogue after the closing boundary is ignored, not read
    except ClientDisconnect:
        raise InvalidInput("The upload was interrupted before the whole body arrived.") from None
    except FormParserError:
        raise InvalidInput("The upload is not well-formed multipart/form-data.") from None
    if not reader.done:
        raise InvalidInput("The upload ended before its closing boundary (truncated body).")
    await reader.flush(batch_bytes=0)


def _boundary(headers: Headers) -> bytes:
    content_type, options = parse_options_header(headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise InvalidInput("Send the upload as multipart/form-data.")
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput("The multipart/form-data content type has no boundary.")
    return boundary


def _check_content_length(headers: Headers, limits: UploadLimits) -> None:
    declared = headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise InvalidInput("The Content-Length header is not a number.")
    if int(declared) > limits.max_body_bytes and not limits.measuring:
        raise limits.body_too_large()
