"""The warm benchmark's baseline: the least an ASGI app can do to serve an image, under the same granian.

`MINIMAL_APP_FILES` is a JSON object `{"/route": ["mime/type", "/path/to/file"], ...}`; every file is read into
memory once at start-up and each GET of its route answers its bytes with Content-Type and Content-Length.
Run as `python bench/minimal_app.py --host 127.0.0.1 --port 8001 --workers 1` (what `pinhole serve` does,
with this app in place of pinhole's).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NOT_FOUND = {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]}


def load_files(spec: str) -> dict[str, tuple[list[tuple[bytes, bytes]], bytes]]:
    """Route -> (response headers, body), from the JSON `spec`."""
    routes = {}
    for route, (mime, path) in json.loads(spec).items():
        body = Path(path).read_bytes()
        headers = [(b"content-type", mime.encode()), (b"content-length", str(len(body)).encode())]
        routes[route] = (headers, body)
    return routes


def factory() -> ASGIApp:
    routes = load_files(os.environ["MINIMAL_APP_FILES"])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        found = routes.get(scope["path"])
        if found is None:
            await send(NOT_FOUND)
            await send({"type": "http.response.body", "body": b""})
            return
        headers, body = found
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from pinhole.cli.serve import event_loop

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--loop", default="auto", help="as pinhole's server.loop: auto (uvloop if installed), uvloop, asyncio"
    )
    args = parser.parse_args()
    # The same Server arguments as `pinhole serve` (src/pinhole/cli/serve.py), so only the app differs.
    Server(
        "minimal_app:factory",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        loop=Loops(event_loop(args.loop)),
        workers=args.workers,
        factory=True,
        log_access=False,
        working_dir=Path(__file__).resolve().parent,
    ).serve()


if __name__ == "__main__":
    main()
