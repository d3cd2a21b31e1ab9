"""Hand-made multipart bodies, for the malformed and streamed cases httpx will not build."""

from __future__ import annotations

from collections.abc import AsyncIterator

BOUNDARY = "pinhole-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
HEADERS = {"content-type": CONTENT_TYPE}


def part(name: str, data: bytes, *, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    headers = f"Content-Disposition: {disposition}\r\n"
    if content_type is not None:
        headers += f"Content-Type: {content_type}\r\n"
    return f"--{BOUNDARY}\r\n{headers}\r\n".encode() + data + b"\r\n"


def closing() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + closing()


async def chunked(data: bytes, size: int = 65536, pulled: list[int] | None = None) -> AsyncIterator[bytes]:
    """Yield `data` in `size` pieces, recording in `pulled` how many the server asked for."""
    for offset in range(0, len(data), size):
        if pulled is not None:
            pulled.append(offset)
        yield data[offset : offset + size]
