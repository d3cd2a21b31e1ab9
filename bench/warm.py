"""Warm (cached) delivery throughput against a minimal ASGI app serving the same bytes from memory.

pinhole and `bench/minimal_app.py` run under the same granian (ASGI, same worker count, same options) and get
the same load: `wrk` with N connections for a fixed duration after a warm-up, over loopback only. Targets:
- the cached variant `?w=800&format=webp` of a 4000x3000 photo (database lookup + FileResponse/pathsend);
- an original of the same bytes (that WebP uploaded as an image: no variant lookup, FileResponse/pathsend);
- the 4000x3000 JPEG original itself (a few MB per response);
- the negotiated variant `?w=800` asked with Chrome's Accept header (AVIF chosen per request, then the variant).
The two small-body rows are compared with the minimal app serving the WebP, the large one with it serving the JPEG,
the negotiated one with it serving the same AVIF bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from common import (
    Figure,
    ServerProcess,
    check_image_response,
    http_client,
    machine_note,
    median,
    minimal_server,
    percentile,
    photo_jpeg,
    pinhole_server,
    print_table,
    process_tree,
    upload,
)

TARGET = 0.5
WARMUP_SECONDS = 2
MAX_DURATION = 120
MAX_CONNECTIONS = 1024


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


# ---------------------------------------------------------------------------------------------
# Load generators


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    def grab(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, output, re.MULTILINE)
        return found.group(1) if found else default

    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(
        requests_per_second=float(grab(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_latency_ms(grab(r"^\s+50%\s+(\S+)", "0ms")),
        p99_ms=_latency_ms(grab(r"^\s+99%\s+(\S+)", "0ms")),
        errors=socket_errors + int(grab(r"Non-2xx or 3xx responses: (\d+)")),
        tool="wrk",
    )


CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def run_wrk(url: str, *, seconds: int, connections: int, accept: str | None = None) -> Load:
    threads = str(min(connections, 2))
    command = ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "--latency", url]
    command += ["-H", f"Accept: {accept}"] if accept else []
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(done.stdout)


async def _python_load(url: str, seconds: int, connections: int, accept: str | None = None) -> Load:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Accept": accept} if accept else {}
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return Load(
        requests_per_second=len(latencies) / elapsed,
        p50_ms=median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        errors=errors,
        tool="python-httpx",
    )


def load(url: str, *, seconds: int, connections: int, accept: str | None = None) -> Load:
    """Warm up, then measure; wrk when installed, else a (much weaker) Python client."""
    if shutil.which("wrk"):
        run_wrk(url, seconds=WARMUP_SECONDS, connections=connections, accept=accept)
        return run_wrk(url, seconds=seconds, connections=connections, accept=accept)
    asyncio.run(_python_load(url, WARMUP_SECONDS, connections, accept))
    return asyncio.run(_python_load(url, seconds, connections, accept))


# ---------------------------------------------------------------------------------------------
# The benchmark


@dataclass(frozen=True)
class Prepared:
    variant_url: str
    small_original_url: str
    large_original_url: str
    variant: bytes
    large: bytes
    negotiated_url: str
    negotiated: bytes


def prepare(server: ServerProcess, work: Path) -> Prepared:
    """Upload the photo, render and re-read its variant (so it is cached), upload the variant as an original."""
    with http_client(server) as client:
        large_id = upload(client, server, photo_jpeg(4000, 3000, seed=11))["id"]
        variant_path = f"/v2/images/{large_id}?w=800&format=webp"
        check_image_response(client.get(variant_path), mime="image/webp")  # renders
        cached = client.get(variant_path)  # from the variant cache
        check_image_response(cached, mime="image/webp")
        small_id = upload(client, server, cached.content, name="small.webp")["id"]
        small = client.get(f"/v2/images/{small_id}")
        large = client.get(f"/v2/images/{large_id}")
        check_image_response(small, mime="image/webp")
        check_image_response(large, mime="image/jpeg")
        negotiated_path = f"/v2/images/{large_id}?w=800"
        check_image_response(client.get(negotiated_path, headers={"Accept": CHROME_ACCEPT}), mime="image/avif")
        negotiated = client.get(negotiated_path, headers={"Accept": CHROME_ACCEPT})
        check_image_response(negotiated, mime="image/avif")
    if small.content != cached.content:
        raise RuntimeError("the re-uploaded WebP is not stored as uploaded; rows 2 and 3 would differ in size")
    (work / "variant.webp").write_bytes(cached.content)
    (work / "large.jpg").write_bytes(large.content)
    (work / "negotiated.avif").write_bytes(negotiated.content)
    base = server.base_url
    return Prepared(
        variant_url=base + variant_path,
        small_original_url=f"{base}/v2/images/{small_id}",
        large_original_url=f"{base}/v2/images/{large_id}",
        variant=cached.content,
        large=large.content,
        negotiated_url=base + negotiated_path,
        negotiated=negotiated.content,
    )


@contextlib.contextmanager
def profiled(server: ServerProcess, svg: Path | None, *, seconds: int) -> Iterator[None]:
    """With `svg`, py-spy (from this venv) samples the last worker process for `seconds` (needs ptrace rights)."""
    if svg is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit(f"--py-spy needs {spy} (pip install py-spy into this venv)")
    worker = process_tree(server.pid)[-1]
    command = [str(spy), "record", "--pid", str(worker), "--duration", str(seconds), "--output", str(svg)]
    recorder = subprocess.Popen([*command, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 30)
    print(f"py-spy flame graph of worker {worker}: {svg}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PINHOLE_NAME=VALUE",
        help="a setting for the pinhole server, e.g. PINHOLE_LOG__ACCESS=false (repeatable)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument(
        "--py-spy",
        metavar="SVG",
        type=Path,
        help="record a py-spy flame graph of pinhole's worker during the cached-variant run into SVG",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION or not 1 <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"--duration must be 1-{MAX_DURATION} and --connections 1-{MAX_CONNECTIONS}")
    return args


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    measure = {"seconds": args.duration, "connections": args.connections}
    work = Path(tempfile.mkdtemp(prefix="pinhole-bench-warm-"))
    try:
        settings = dict(item.split("=", 1) for item in args.set)
        with pinhole_server(workers=args.workers, settings=settings) as server:
            prepared = prepare(server, work)
            with profiled(server, args.py_spy, seconds=args.duration + WARMUP_SECONDS):
                variant = load(prepared.variant_url, **measure)
            small = load(prepared.small_original_url, **measure)
            large = load(prepared.large_original_url, **measure)
            negotiated = load(prepared.negotiated_url, accept=CHROME_ACCEPT, **measure)
        files = {
            "/variant.webp": ("image/webp", work / "variant.webp"),
            "/large.jpg": ("image/jpeg", work / "large.jpg"),
            "/negotiated.avif": ("image/avif", work / "negotiated.avif"),
        }
        with minimal_server(files, workers=args.workers) as minimal:
            minimal_small = load(minimal.base_url + "/variant.webp", **measure)
            minimal_large = load(minimal.base_url + "/large.jpg", **measure)
            minimal_avif = load(minimal.base_url + "/negotiated.avif", accept=CHROME_ACCEPT, **measure)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, size: int, measured: Load, baseline: Load) -> tuple[object, ...]:
        share = measured.requests_per_second / baseline.requests_per_second
        return (
            name,
            f"{size / 1000:.0f} kB",
            f"{measured.requests_per_second:,.0f}",
            f"{measured.p50_ms:.1f} ms",
            f"{measured.p99_ms:.1f} ms",
            measured.errors,
            f"{share:.2f}",
        )

    small_size, large_size = len(prepared.variant), len(prepared.large)
    rows = [
        row("minimal ASGI app, WebP from memory", small_size, minimal_small, minimal_small),
        row("pinhole cached variant ?w=800&format=webp", small_size, variant, minimal_small),
        row("pinhole original, same WebP bytes", small_size, small, minimal_small),
        row("minimal ASGI app, 4000x3000 JPEG from memory", large_size, minimal_large, minimal_large),
        row("pinhole original 4000x3000 JPEG", large_size, large, minimal_large),
        row("minimal ASGI app, AVIF from memory", len(prepared.negotiated), minimal_avif, minimal_avif),
        row("pinhole negotiated ?w=800 (Chrome Accept -> AVIF)", len(prepared.negotiated), negotiated, minimal_avif),
    ]
    tool = variant.tool + (
        ""
        if variant.tool == "wrk"
        else " (wrk not found: Python fallback, slower than the servers, so ratios understate the gap)"
    )
    print_table(
        f"Warm delivery: {args.connections} connections, {args.duration} s after {WARMUP_SECONDS} s warm-up, "
        f"{args.workers} worker(s), load by {tool} on the same machine; {machine_note()}",
        ("target", "body", "req/s", "p50", "p99", "errors", "vs minimal"),
        rows,
    )
    minimal_rps = minimal_small.requests_per_second
    return [
        Figure(
            bench="warm",
            name="cached variant req/s",
            value=f"{variant.requests_per_second:,.0f}",
            baseline=f"{minimal_rps:,.0f} minimal app",
            ratio=f"{variant.requests_per_second / minimal_rps:.2f}",
            target=f">= {TARGET}",
        ),
        Figure(
            bench="warm",
            name="original (same bytes) req/s",
            value=f"{small.requests_per_second:,.0f}",
            baseline=f"{minimal_rps:,.0f} minimal app",
            ratio=f"{small.requests_per_second / minimal_rps:.2f}",
        ),
        Figure(
            bench="warm",
            name="original 4000x3000 req/s",
            value=f"{large.requests_per_second:,.0f}",
            baseline=f"{minimal_large.requests_per_second:,.0f} minimal app",
            ratio=f"{large.requests_per_second / minimal_large.requests_per_second:.2f}",
        ),
        Figure(
            bench="warm",
            name="negotiated variant (AVIF) req/s",
            value=f"{negotiated.requests_per_second:,.0f}",
            baseline=f"{minimal_avif.requests_per_second:,.0f} minimal app",
            ratio=f"{negotiated.requests_per_second / minimal_avif.requests_per_second:.2f}",
            target=f">= {TARGET}",
        ),
    ]


if __name__ == "__main__":
    run()
