"""Resumable uploads over tus 1.0 to `/v2/uploads`, used when the server offers it (OPTIONS answers Tus-Version).

The protocol as pinhole documents it (docs/apis.md, "Resumable uploads"): POST with `Upload-Length` and
`Upload-Metadata` (filename, description, tags, albumId, isPrivate) answers 201 with `Location`; PATCHes with
`Upload-Offset` send the bytes; HEAD tells the offset to resume from; GET answers the image's v2 JSON once complete.

The protocol is written once, as a generator that yields the requests to send and is sent their responses
(`steps`); `upload` and `upload_async` only carry those requests over a blocking or an asyncio httpx client.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from typing import Any

import httpx

from pinhole_client.errors import error_from
from pinhole_client.uploads import Progress, ProgressReader

VERSION = "1.0.0"
CHUNK_BYTES = 8 * 1024 * 1024

Steps = Generator[httpx.Request, httpx.Response, Any]


def metadata(fields: dict[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items() if value)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise error_from(response)
    return response


def steps(
    http: httpx.Client | httpx.AsyncClient,
    reader: ProgressReader,
    fields: dict[str, str],
    *,
    resume_url: str | None = None,
    on_created: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Steps:
    """Send `reader` through tus (from `resume_url`'s offset when given); return the image's JSON.
    `http` only builds the requests (its base URL and headers); the caller sends them."""
    headers = {"Tus-Resumable": VERSION}
    url = resume_url
    offset = 0
    if url is not None:
        found = yield http.build_request("HEAD", url, headers=headers)
        if found.status_code in (404, 410):
            url = None  # expired or swept: start again
        else:
            offset = int(_checked(found).headers["Upload-Offset"])
    if url is None:
        create = headers | {"Upload-Length": str(reader.total), "Upload-Metadata": metadata(fields)}
        created = _checked((yield http.build_request("POST", "/v2/uploads", headers=create)))
        url = str(created.url.join(created.headers["Location"]))
        if on_created is not None:
            on_created(url)
    reader.seek(offset)
    while offset < reader.total:
        chunk = reader.read(chunk_bytes)
        patch = headers | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        sent = yield http.build_request("PATCH", url, content=chunk, headers=patch)
        offset = int(_checked(sent).headers["Upload-Offset"])
    if progress is not None:
        progress(reader.total, reader.total)
    return _checked((yield http.build_request("GET", url, headers=headers))).json()


def upload(http: httpx.Client, reader: ProgressReader, fields: dict[str, str], **options: Any) -> Any:
    """`steps` over a blocking client."""
    protocol = steps(http, reader, fields, **options)
    try:
        request = next(protocol)
        while True:
            request = protocol.send(http.send(request))
    except StopIteration as done:
        return done.value


async def upload_async(http: httpx.AsyncClient, reader: ProgressReader, fields: dict[str, str], **options: Any) -> Any:
    """`steps` over an asyncio client."""
    protocol = steps(http, reader, fields, **options)
    try:
        request = next(protocol)
        while True:
            request = protocol.send(await http.send(request))
    except StopIteration as done:
        return done.value
