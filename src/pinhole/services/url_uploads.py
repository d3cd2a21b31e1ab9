"""Uploads from a URL: the file is fetched by the hostile-target fetcher, then ingested like any upload."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pinhole.errors import InvalidInput
from pinhole.fetch import Fetcher
from pinhole.uploads.form import ParsedForm, UploadedFile
from pinhole.uploads.reader import clean_filename


@asynccontextmanager
async def fetched_upload(
    fetcher: Fetcher, url: str | None, *, tmp_dir: Path, max_bytes: int
) -> AsyncIterator[UploadedFile | None]:
    """The file at `url` in a temp file (deleted when the block exits), as if it had been sent; None without a URL."""
    if url is None or not url.strip():
        yield None
        return
    dest = tmp_dir / f"fetch-{secrets.token_hex(16)}.part"
    fetched = await fetcher.fetch(url.strip(), dest=dest, max_bytes=max_bytes)
    try:
        # An unconditional GET is never "not modified": there is a body.
        assert fetched.path is not None
        assert fetched.sha256 is not None
        yield UploadedFile(
            field="url",
            filename=filename_of(fetched.url),
            content_type=fetched.headers.get("content-type"),
            path=fetched.path,
            size=fetched.size,
            sha256=fetched.sha256,
        )
    finally:
        dest.unlink(missing_ok=True)


def filename_of(url: str) -> str | None:
    """The last path segment of the (final) URL, decoded and cleaned like a sent file's name."""
    segment = unquote(urlsplit(url).path.rstrip("/").rpartition("/")[2])
    return clean_filename(segment.encode())


def url_field(form: ParsedForm) -> str | None:
    """The `url` form field, refused next to a `file` (one upload, one source)."""
    url = form.first("url")
    if url is not None and url.strip() and form.files_for("file"):
        raise InvalidInput("Send either a file or a url, not both.", field="url")
    return url
