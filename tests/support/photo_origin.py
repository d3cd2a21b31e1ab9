"""A real HTTP origin on loopback for the proxy dialects' remote-origin tests: photos with validators, a request
count per path, a version that tests bump (the next 200 carries other bytes), a slow path for single flight, and
hostile bodies.

Routes: `/photos/<name>` (the photo named, ETag + Last-Modified, 304 to matching conditions), `/slow/<name>` (the
same after `delay` seconds), `/to?url=<url>` (302 to `url`), `/moved/<name>` (302 to `moved` + name, a base URL
that tests set), `/polyglot.jpg` (a JPEG with a ZIP after it),
`/huge.png` (a PNG header claiming 100000 x 100000 pixels), `/page.html` (not an image).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyvips

from tests.support import images as img

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


def landscape(seed: int) -> bytes:
    """An 800 x 600 photo whose left and right halves differ (so a crop's position shows)."""
    left = img.photo(400, 600, seed=seed)
    right = img.solid(400, 600, [20, 40, 200])
    return bytes(left.join(right, "horizontal").jpegsave_buffer(Q=90))


@dataclass
class OriginState:
    version: int = 1
    delay: float = 0.0
    moved: str = "/photos/"  # where `/moved/<name>` redirects: `moved` + name (absolute, or relative to the origin)
    hits: Counter[str] = field(default_factory=Counter)
    conditional: Counter[str] = field(default_factory=Counter)  # requests that carried a validator
    lock: threading.Lock = field(default_factory=threading.Lock)

    def photo(self) -> bytes:
        return landscape(self.version)

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: OriginState

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        with self.state.lock:
            self.state.hits[path] += 1
            if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
                self.state.conditional[path] += 1
        if path.startswith("/photos/"):
            self._photo()
        elif path.startswith("/slow/"):
            time.sleep(self.state.delay)
            self._photo()
        elif path.startswith("/moved/"):
            self._send(302, b"", "text/plain", {"Location": self.state.moved + path.removeprefix("/moved/")})
        elif path == "/to":
            self._send(302, b"", "text/plain", {"Location": parse_qs(parts.query)["url"][0]})
        elif path == "/polyglot.jpg":
            self._send(200, img.polyglot(img.make_jpeg(64, 48)), "image/jpeg")
        elif path == "/huge.png":
            self._send(200, img.make_png_header(100_000, 100_000), "image/png")
        elif path == "/page.html":
            self._send(200, b"<!doctype html><p>not an image</p>", "text/html")
        else:
            self._send(404, b"not here", "text/plain")

    def _photo(self) -> None:
        etag = self.state.etag
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", "image/jpeg", {"ETag": etag}, body=False)
            return
        self._send(200, self.state.photo(), "image/jpeg", {"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def _send(
        self, status: int, data: bytes, kind: str, extra: dict[str, str] | None = None, *, body: bool = True
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if body:
            self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)


@dataclass(frozen=True)
class PhotoOrigin:
    base: str
    port: int
    state: OriginState

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextlib.contextmanager
def run_photo_origin(host: str = "127.0.0.1") -> Iterator[PhotoOrigin]:
    state = OriginState()
    handler: type[_Handler] = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PhotoOrigin(
            base=f"http://{host}:{server.server_address[1]}", port=int(server.server_address[1]), state=state
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def decoded(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")
