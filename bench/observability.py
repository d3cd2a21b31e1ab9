"""What observability costs a warm hit: CPU time per request of the ASGI stack, with and without it.

One process, no sockets: a warm `GET /v2/images/{id}?w=200&format=webp` (answered by the fast path from memory) is
sent straight into the app's ASGI callable thousands of times, and the CPU time of the process (not wall time, so
other load on the machine matters less) is divided by the count. Three apps built from the same settings:
- without observability: the app with `ObservabilityMiddleware` left out of its stack (the fast path still adds
  its one tally update);
- with metrics and request ids (access log off: `PINHOLE_LOG__ACCESS=false`);
- with metrics, request ids and the access log written as JSON lines (to /dev/null, through the buffered
  handler `pinhole serve` gives the access log).
Rounds alternate between the apps; the table gives the median of each and its ratio to the first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from common import machine_note, photo_jpeg, print_table
from pinhole.api.front import PinholeApp
from pinhole.app import create_app
from pinhole.db.migrate import upgrade
from pinhole.observability.logging import ACCESS_LOGGER, BufferedStreamHandler, ContextFilter, JsonFormatter
from pinhole.observability.middleware import ObservabilityMiddleware
from pinhole.services.clients import create_client
from pinhole.settings import Settings


def build(data: Path, *, observed: bool, access: bool) -> PinholeApp:
    settings = Settings(data_dir=data, log={"access": access}, rate_limits={"enabled": False})
    app = create_app(settings)
    if not observed:  # it runs in front of FastAPI's stack (api/front.py)
        app.front_middleware = [m for m in app.front_middleware if m.cls is not ObservabilityMiddleware]  # type: ignore[comparison-overlap]
    return app


async def prepare(app: FastAPI) -> str:
    """Upload a photo and make its variant warm; the path and query of the warm request."""
    runtime = app.state.runtime
    key = (await create_client(db=runtime.db, name="bench")).api_key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        image = await http.post(
            "/v2/images", headers={"X-API-Key": key}, files={"file": ("p.jpg", photo_jpeg(1600, 1200))}
        )
        image_id = image.json()["id"]
        for _ in range(3):
            answer = await http.get(f"/v2/images/{image_id}", params={"w": 200, "format": "webp"})
            assert answer.status_code == 200
    return f"/v2/images/{image_id}"


async def cpu_per_request(app: FastAPI, path: str, count: int, query: bytes = b"w=200&format=webp") -> float:
    """CPU microseconds per warm request for `path?query` through the app's ASGI stack (each answered 200)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[int] = []

    idle = asyncio.Event()  # never set: after the (empty) body the client just waits, as a connected one does

    async def receive() -> dict[str, Any]:
        await idle.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    started = time.process_time()
    for _ in range(count):
        await app(dict(scope), receive, send)
    elapsed = time.process_time() - started
    assert set(sent) == {200}, set(sent)
    return elapsed / count * 1e6


async def main(args: argparse.Namespace) -> None:
    handler = BufferedStreamHandler(open("/dev/null", "w"))  # noqa: SIM115  # the server's access handler
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    access_log = logging.getLogger(ACCESS_LOGGER)
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    variants = {
        "without observability": {"observed": False, "access": False},
        "metrics + request id (access log off)": {"observed": True, "access": False},
        "metrics + request id + JSON access log": {"observed": True, "access": True},
    }
    with tempfile.TemporaryDirectory() as work:
        apps = {}
        for n, (name, options) in enumerate(variants.items()):
            app = build(Path(work) / str(n), **options)
            await upgrade(app.state.runtime.db)
            context = app.router.lifespan_context(app)
            await context.__aenter__()
            apps[name] = (app, await prepare(app), context)
        results: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.rounds):
            for name, (app, path, _) in apps.items():
                results[name].append(await cpu_per_request(app, path, args.requests))
        for _app, _, context in apps.values():
            await context.__aexit__(None, None, None)
    base = statistics.median(results["without observability"])
    rows = []
    for name, values in results.items():
        median = statistics.median(values)
        rows.append((name, f"{median:.1f}", f"{min(values):.1f}", f"{median / base:.3f}"))
    title = (
        f"Warm fast-path hit, CPU per request in process: {args.rounds} rounds x {args.requests} requests; "
        f"{machine_note()}"
    )
    print_table(title, ["app", "median µs", "best µs", "vs without"], rows)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per app (default 7)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per round (default 3000)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
