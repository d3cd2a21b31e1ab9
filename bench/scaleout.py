"""Upload and warm-variant throughput on the embedded default against the scaled stack, one instance against two.

Three setups, measured in one run with the same load:
- **embedded**: one `pinhole serve` on SQLite and the local folder (the baseline);
- **scaled x1**: one instance on PostgreSQL (a fresh database on the local server), an S3-speaking server (moto's,
  started here on loopback) and Redis (127.0.0.1:6379, a key prefix of its own);
- **scaled x2**: two instances on ports of their own sharing those three (one API client, one secret); the load
  is spread over both round-robin, as a load balancer would.

Uploads: `--uploads` distinct 1600x1200 JPEGs (~300 kB, a new seed each so dedup never helps), `--concurrency`
at a time. Warm variant: one image's `?w=400&format=webp`, rendered once through each instance, then `wrk`
(or a Python client) with `--connections` spread over the instances for `--duration` seconds.

On a 2-core machine the servers, PostgreSQL, the S3 server, Redis and the load generator share two CPUs, so the
x2 row shows what a second instance costs and proves the setup works, not the gain on separate machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import secrets
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import asyncpg
import httpx

import warm
from common import (
    Figure,
    ServerProcess,
    clean_env,
    create_client,
    machine_note,
    photo_jpeg,
    pinhole_command,
    pinhole_server,
    print_table,
    ratio,
)

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(REDIS, timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def scaled_settings() -> Iterator[dict[str, str]]:
    """PINHOLE_* variables for instances sharing a fresh PostgreSQL database, an S3 bucket and Redis."""
    from tests.support.s3server import REGION, start_s3_server  # importable once `common` put the repo on the path

    name = f"pinhole_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    s3 = start_s3_server()
    try:
        bucket = s3.new_bucket()
        settings = {
            "PINHOLE_DATABASE__URL": POSTGRES_ADMIN.rpartition("/")[0] + f"/{name}",
            "PINHOLE_STORAGE__BACKEND": "s3",
            "PINHOLE_STORAGE__S3__ENDPOINT_URL": s3.endpoint_url,
            "PINHOLE_STORAGE__S3__BUCKET": bucket,
            "PINHOLE_STORAGE__S3__REGION": REGION,
            "PINHOLE_STORAGE__S3__ACCESS_KEY_ID": s3.access_key_id,
            "PINHOLE_STORAGE__S3__SECRET_ACCESS_KEY": s3.secret_access_key,
            "PINHOLE_STORAGE__S3__PATH_STYLE": "true",
            "PINHOLE_SECRET_KEY": secrets.token_urlsafe(48),
        }
        if _redis_answers():
            settings |= {"PINHOLE_REDIS__URL": "redis://127.0.0.1:6379/0", "PINHOLE_REDIS__KEY_PREFIX": f"{name}:"}
        env = clean_env(**settings)
        subprocess.run([*pinhole_command(), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
        yield settings
    finally:
        s3.stop()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def instances(settings: dict[str, str], count: int, workers: int) -> Iterator[list[ServerProcess]]:
    with ExitStack() as stack:
        # Several instances share one database: one client (made once) for all of them.
        key = create_client(clean_env(PINHOLE_DATA_DIR=tempfile.mkdtemp(), **settings)) if count > 1 else None
        servers = [
            stack.enter_context(pinhole_server(workers=workers, settings=settings, api_key=key)) for _ in range(count)
        ]
        yield servers


def measure_uploads(servers: list[ServerProcess], *, count: int, concurrency: int) -> tuple[float, str]:
    bodies = [photo_jpeg(1600, 1200, seed=1000 + n) for n in range(count)]
    clients = [httpx.Client(base_url=server.base_url, timeout=120) for server in servers]
    targets = itertools.cycle(range(len(servers)))
    plan = [(next(targets), body) for body in bodies]

    def send(item: tuple[int, bytes]) -> int:
        index, body = item
        response = clients[index].post("/v2/images", headers=servers[index].headers, files={"file": ("p.jpg", body)})
        return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(send, plan))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    failed = sum(status != 201 for status in statuses)
    return count / elapsed, f"{failed} failed" if failed else "all 201"


def measure_warm(servers: list[ServerProcess], *, seconds: int, connections: int) -> warm.Load:
    first = servers[0]
    with httpx.Client(base_url=first.base_url, timeout=120) as client:
        created = client.post("/v2/images", headers=first.headers, files={"file": ("w.jpg", photo_jpeg(2000, 1500))})
        created.raise_for_status()
        image_id = created.json()["id"]
    path = f"/v2/images/{image_id}?w=400&format=webp"
    for server in servers:  # render once, read back through every instance
        httpx.get(server.base_url + path, timeout=120).raise_for_status()
    share = max(1, connections // len(servers))
    with ThreadPoolExecutor(len(servers)) as pool:
        loads = list(pool.map(lambda s: warm.load(s.base_url + path, seconds=seconds, connections=share), servers))
    return warm.Load(
        requests_per_second=sum(load.requests_per_second for load in loads),
        p50_ms=max(load.p50_ms for load in loads),
        p99_ms=max(load.p99_ms for load in loads),
        errors=sum(load.errors for load in loads),
        tool=loads[0].tool,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="worker processes per instance")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    rows = []
    results: dict[str, tuple[float, warm.Load]] = {}
    setups: list[tuple[str, int]] = [("embedded", 1), ("scaled x1", 1), ("scaled x2", 2)]
    redis_note = "with Redis" if _redis_answers() else "WITHOUT Redis (none answered on 127.0.0.1:6379)"
    with scaled_settings() as scaled:
        for name, count in setups:
            settings = {} if name == "embedded" else scaled
            with instances(settings, count, args.workers) as servers:
                uploads, upload_note = measure_uploads(servers, count=args.uploads, concurrency=args.concurrency)
                load = measure_warm(servers, seconds=args.duration, connections=args.connections)
            results[name] = (uploads, load)
            base_uploads, base_load = results["embedded"]
            rows.append(
                (
                    name,
                    f"{uploads:.1f}/s ({upload_note})",
                    ratio(uploads, base_uploads),
                    f"{load.requests_per_second:.0f}/s",
                    f"{load.p50_ms:.1f} / {load.p99_ms:.1f}",
                    load.errors,
                    ratio(load.requests_per_second, base_load.requests_per_second),
                )
            )
    print_table(
        f"Scale-out: {args.uploads} uploads x{args.concurrency}, warm ?w=400&format=webp {args.duration} s x"
        f"{args.connections} ({load.tool}); scaled = PostgreSQL + S3 (moto) {redis_note}; {machine_note()}",
        ("setup", "uploads", "vs embedded", "warm req/s", "p50 / p99 ms", "errors", "vs embedded"),
        rows,
    )
    return [
        Figure(
            "scaleout",
            f"{name} uploads/s",
            f"{up:.1f}",
            f"{results['embedded'][0]:.1f}",
            ratio(up, results["embedded"][0]),
        )
        for name, (up, _) in results.items()
    ] + [
        Figure(
            "scaleout",
            f"{name} warm req/s",
            f"{ld.requests_per_second:.0f}",
            f"{results['embedded'][1].requests_per_second:.0f}",
            ratio(ld.requests_per_second, results["embedded"][1].requests_per_second),
        )
        for name, (_, ld) in results.items()
    ]


if __name__ == "__main__":
    run()
