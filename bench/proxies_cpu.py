"""What a warm hit costs through each proxy URL language against v2: CPU time per request in process.

One app with every dialect enabled and signing on (the settings of `proxies.py`), no sockets: the same cached
variant (w=300, quality 80, JPEG) asked through v2 and through thumbor, imgproxy, imgix and Cloudinary URLs is sent
straight into the app's ASGI callable, with the whole middleware stack (observability included), and the process's
CPU time is divided by the count, so other load on the machine matters less than for `proxies.py`'s wall times.
Rounds alternate between the paths; the table gives each path's median and its ratio to v2's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from common import machine_note, photo_jpeg, print_table
from observability import cpu_per_request
from pinhole.app import create_app
from pinhole.db.migrate import upgrade
from pinhole.services.clients import create_client
from pinhole.settings import Settings
from proxies import CLOUD_SECRET, IMGIX_TOKEN, IMGPROXY_KEY, IMGPROXY_SALT, PATHS, SOURCE, THUMBOR_KEY

WIDTH = 300


def settings(data: Path) -> Settings:
    dialects: dict[str, Any] = {
        "thumbor": {"enabled": True, "security_key": THUMBOR_KEY},
        "imgproxy": {"enabled": True, "key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT]},
        "imgix": {"enabled": True, "token": IMGIX_TOKEN},
        "cloudinary": {"enabled": True, "cloud_name": "bench", "api_secret": CLOUD_SECRET},
    }
    return Settings(data_dir=data, dialects=dialects, log={"access": False})


async def prepare(app: FastAPI) -> dict[str, tuple[str, bytes]]:
    """Upload a photo, make its variant warm through every path; each path's (path, query)."""
    runtime = app.state.runtime
    key = (await create_client(db=runtime.db, name="bench")).api_key
    transport = httpx.ASGITransport(app=app)
    found = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        image = await http.post(
            "/v2/images", headers={"X-API-Key": key}, files={"file": ("p.jpg", photo_jpeg(*SOURCE, seed=3))}
        )
        image_id = image.json()["id"]
        for name, url_for in PATHS.items():
            url = url_for(image_id, WIDTH)
            for _ in range(3):
                answer = await http.get(url)
                assert answer.status_code == 200, (name, answer.status_code, answer.text)
            path, _, query = url.partition("?")
            found[name] = (path, query.encode())
    return found


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as work:
        app = create_app(settings(Path(work)))
        await upgrade(app.state.runtime.db)
        context = app.router.lifespan_context(app)
        await context.__aenter__()
        try:
            paths = await prepare(app)
            results: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, (path, query) in paths.items():
                    results[name].append(await cpu_per_request(app, path, args.requests, query))
        finally:
            await context.__aexit__(None, None, None)
    base = statistics.median(results["v2"])
    rows = []
    for name, values in results.items():
        median = statistics.median(values)
        rows.append((name, f"{median:.1f}", f"{min(values):.1f}", f"{median / base:.2f}x"))
    title = (
        f"Warm hit through each URL language, CPU per request in process (whole ASGI stack, access log off): "
        f"{args.rounds} rounds x {args.requests} requests; {machine_note()}"
    )
    print_table(title, ["path", "median µs", "best µs", "vs v2"], rows)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per path (default 7)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (default 2000)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
