"""A small real HTTP origin on loopback (a threaded `http.server`) for the fetcher's tests.

Routes: `/image.jpg` (an image with an ETag and Last-Modified, answering 304 to matching conditions),
`/echo` (the request's headers as JSON), `/status/<code>`, `/redirect/<n>` (n redirects, then `/image.jpg`),
`/to?url=<url>` (one redirect to `url`), `/set-cookie` (sets a cookie, redirects to `/echo`), `/endless` (bytes
that never end), `/stall` (headers, then nothing), `/big` (a Content-Length over any test limit).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support.images import make_jpeg

ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    image = b""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/image.jpg":
            self._image()
        elif path == "/echo":
            self._send(200, json.dumps(dict(self.headers.items())).encode(), "application/json")
        elif path.startswith("/status/"):
            self._send(int(path.rpartition("/")[2]), b"nope", "text/plain")
        elif path.startswith("/redirect/"):
            left = int(path.rpartition("/")[2])
            self._redirect("/image.jpg" if left <= 1 else f"/redirect/{left - 1}")
        elif path == "/to":
            self._redirect(query["url"][0])
        elif path == "/set-cookie":
            self._redirect("/echo", extra={"Set-Cookie": "session=secret; Path=/"})
        elif path == "/endless":
            self._endless()
        elif path == "/stall":
            self._stall()
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
        else:
            self._send(404, b"not here", "text/plain")

    def _image(self) -> None:
        if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self._send(200, self.image, "image/jpeg", extra={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    def _redirect(self, location: str, extra: dict[str, str] | None = None) -> None:
        self._send(302, b"", "text/plain", extra={"Location": location} | (extra or {}))

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        with contextlib.suppress(OSError):
            while True:
                self.wfile.write(b"\0" * 65536)

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.flush()
        time.sleep(5)  # the fetch (timeout 0.5 s in its test) gives up long before

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@dataclass(frozen=True)
class Origin:
    base: str
    port: int
    image: bytes


@contextlib.contextmanager
def run_origin() -> Iterator[Origin]:
    handler: type[_Handler] = type("Handler", (_Handler,), {"image": make_jpeg(80, 60)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Origin(base=f"http://127.0.0.1:{port}", port=int(port), image=handler.image)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
