"""pinhole against what a user would pick instead, on this machine, in one run: the goals of issue 20.

Prepares everything itself (bench/peers_setup.py: wrk and nginx from Debian, thumbor 7.8 in bench/.thumbor-venv),
starts every server on 127.0.0.1, runs the workloads with fixed seeds, stops everything, prints one table (each
figure, its same-run baseline, the ratio and the goal) and writes bench/results.json: a list of rows
{"name", "value", "unit", "baseline", "baseline_name", "ratio", "goal", "met"}.

Workloads (4000x3000 photo-like JPEGs, bench/common.py):
- cold: every request a variant never made before (`w` = 800, 801, ...; JPEG q80), 8 concurrent, against thumbor
  (result storage on, 2 processes) asked for the same sizes; and one at a time, against the bare libvips calls
  pinhole's pipeline makes for that request (same bytes out, checked);
- mix: 1,000 (image, width) pairs over 20 photos drawn with Zipf s=1.1, 16 concurrent, against thumbor; a request
  counts as a hit when its pair had already been answered once, else as a render, and both are reported;
- cached: an 800-px WebP variant with wrk (64 connections) against nginx (1 worker) and a minimal ASGI app
  (bench/minimal_app.py) serving the same bytes;
- bytes: the default-quality w=800 JPEG and WebP of both services, sizes and SSIM against an unencoded reference;
- listing: `GET /v2/images?limit=50` (page mode) for a client with 100k images against one with 1k;
- memory: bench/memory.py's 108 MP upload and w=800 render, against the figures of 2026-12 (+138 / +33 MiB).

On a shared machine each measurement is watched (bench/loadgen.py): one during which other processes used more
than 20% of the CPUs is discarded and repeated, and the output says so. No figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pyvips

import loadgen
import memory
import quality
import transform
import warm
from common import (
    BENCH_DIR,
    ServerProcess,
    check_image_response,
    machine_note,
    median,
    minimal_server,
    photo_jpeg,
    pinhole_command,
    pinhole_server,
    print_table,
)
from peers_setup import ensure_thumbor, ensure_tools, nginx_server, thumbor_server

RESULTS = BENCH_DIR / "results.json"
PHOTOS = 20
PAIRS = 1000
ZIPF_S = 1.1
SEED = 20
# thumbor renders whatever anyone asks: pinhole's budget for strangers' renders (issue 15, 60 a minute per address
# by default) would refuse most of the cold and mix workloads, which are all anonymous requests from one address.
OPEN_RENDERS = {"PINHOLE_TRANSFORMS__STRANGER_RENDERS_PER_MINUTE": "0"}
UNBOUNDED = 10_000_000  # what pinhole's planner passes as the free side of a `w`-only box


@dataclass(frozen=True)
class Goal:
    """`value` (or `ratio`) compared with `target` by `op`."""

    op: str  # ">=" or "<="
    target: float
    on: str = "ratio"  # "ratio" or "value"

    def met(self, value: float, ratio: float | None) -> bool:
        measured = value if self.on == "value" else ratio
        if measured is None:
            return False
        return measured >= self.target if self.op == ">=" else measured <= self.target

    def __str__(self) -> str:
        return f"{self.on} {self.op} {self.target:g}"


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None
    baseline_name: str
    ratio: float | None
    goal: str
    met: bool | None


def row(
    name: str, value: float, unit: str, baseline: float | None, baseline_name: str, goal: Goal | None = None
) -> Row:
    ratio = value / baseline if baseline else None
    return Row(
        name=name,
        value=round(value, 3),
        unit=unit,
        baseline=None if baseline is None else round(baseline, 3),
        baseline_name=baseline_name,
        ratio=None if ratio is None else round(ratio, 3),
        goal=str(goal) if goal else "",
        met=goal.met(value, ratio) if goal else None,
    )


# ---------------------------------------------------------------------------------------------
# Setting up: photos, the servers, their URLs


@dataclass(frozen=True)
class Photos:
    folder: Path  # p0.jpg ... p19.jpg (thumbor's file loader root)
    data: list[bytes]


CACHE = BENCH_DIR / "results" / "photos"  # gitignored; the same seeds always make the same files


def make_photos(count: int) -> Photos:
    """`count` 4000x3000 photo-like JPEGs (seeds 100...), made once and kept in bench/results/photos."""
    CACHE.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="pinhole-bench-photos-"))
    data = []
    for index in range(count):
        cached = CACHE / f"4000x3000-seed{100 + index}.jpg"
        if not cached.exists():
            cached.write_bytes(photo_jpeg(4000, 3000, seed=100 + index))
        data.append(cached.read_bytes())
        (folder / f"p{index}.jpg").write_bytes(data[-1])
    return Photos(folder, data)


class Targets:
    """How each server spells the same request."""

    def __init__(self, pinhole_ids: list[str]) -> None:
        self.ids = pinhole_ids

    def pinhole(self, photo: int, width: int, *, q: int | None = 80, fmt: str | None = None) -> str:
        query = f"w={width}" + (f"&q={q}" if q else "") + (f"&format={fmt}" if fmt else "")
        return f"/v2/images/{self.ids[photo]}?{query}"

    @staticmethod
    def thumbor(photo: int, width: int, *, q: int | None = 80, fmt: str | None = None) -> str:
        filters = [f"quality({q})"] if q else []
        filters += [f"format({fmt})"] if fmt else []
        spec = f"filters:{':'.join(filters)}/" if filters else ""
        return f"/unsafe/{width}x0/{spec}p{photo}.jpg"


Spell = Callable[..., str]


def port_of(server: ServerProcess) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def upload_all(server: ServerProcess, photos: Photos) -> list[str]:
    ids = []
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        for index, content in enumerate(photos.data):
            response = client.post("/v2/images", headers=server.headers, files={"file": (f"p{index}.jpg", content)})
            response.raise_for_status()
            ids.append(str(response.json()["id"]))
    return ids


# ---------------------------------------------------------------------------------------------
# Workloads


SEQUENTIAL_PHOTO = 3  # one photo per workload, so no workload finds another's variants
COLD_PHOTO = 0
MIX_QUALITY = 75  # the mix's variants never coincide with the cold ones (q80)


def cold_variant(index: int) -> tuple[int, int]:
    """The (w, q) of the index-th cold variant: 36 qualities per width (60-95), then the next width from 800."""
    return 800 + index // 36, 60 + index % 36


def cold_sequential(
    pinhole: ServerProcess, thumbor: ServerProcess, targets: Targets, photos: Photos, n: int
) -> dict[str, float]:
    """One request at a time, each a variant never made before (w ~800, a new q): pinhole, the bare libvips calls
    its pipeline makes for it (bench/transform.py: from the original, then from its intermediate as pinhole does
    from the second render on), thumbor; interleaved, medians in seconds."""
    source = photos.data[SEQUENTIAL_PHOTO]
    pyvips.cache_set_max(0)
    times: dict[str, list[float]] = {"pinhole": [], "libvips": [], "thumbor": []}
    with httpx.Client(timeout=120) as client:
        intermediate = transform.intermediate_of(source)
        # Both paths pinhole takes: the first render from the original, the next ones from its intermediate.
        for width, start in ((799, None), (798, intermediate)):
            answer = client.get(pinhole.base_url + targets.pinhole(SEQUENTIAL_PHOTO, width, q=59))
            check_image_response(answer, mime="image/jpeg")
            if answer.content != transform.direct(source, width=width, quality=59, intermediate=start):
                print("  WARNING: pinhole's bytes differ from the direct libvips call: the latency comparison is off")
        client.get(thumbor.base_url + targets.thumbor(SEQUENTIAL_PHOTO, 799, q=59)).raise_for_status()
        for index in range(n):
            width, q = cold_variant(index)
            steps: list[tuple[str, Callable[[int, int], object]]] = [
                ("libvips", lambda w, q: transform.direct(source, width=w, quality=q, intermediate=intermediate)),
                ("pinhole", lambda w, q: client.get(pinhole.base_url + targets.pinhole(SEQUENTIAL_PHOTO, w, q=q))),
                ("thumbor", lambda w, q: client.get(thumbor.base_url + targets.thumbor(SEQUENTIAL_PHOTO, w, q=q))),
            ]
            for name, action in steps:
                started = time.perf_counter()
                done = action(width, q)
                times[name].append(time.perf_counter() - started)
                if isinstance(done, httpx.Response):
                    done.raise_for_status()
    return {name: median(values) for name, values in times.items()}


def cold_concurrent(server: ServerProcess, spell: Spell, *, seconds: float, attempt: int) -> loadgen.Run:
    """8 connections, every request a variant never made before (w ~800, a new q) of the cold photo."""
    indexes = itertools.count(attempt * 2000)

    def next_path(_: int) -> tuple[str, str]:
        width, q = cold_variant(next(indexes))
        return spell(COLD_PHOTO, width, q=q), "render"

    return loadgen.drive(port_of(server), next_path, connections=8, seconds=seconds)


class ZipfMix:
    """1,000 (photo, width) pairs ranked at random (fixed seed), drawn with P(rank k) ~ 1/k^s."""

    def __init__(self, spell: Spell, *, attempt: int) -> None:
        ranked = [(photo, 320 + 20 * step + attempt) for photo in range(PHOTOS) for step in range(PAIRS // PHOTOS)]
        random.Random(SEED).shuffle(ranked)
        self.pairs = ranked
        self.cumulative = list(itertools.accumulate(1 / (k**ZIPF_S) for k in range(1, PAIRS + 1)))
        self.random = random.Random(SEED + 1)
        self.paths = [spell(photo, width, q=MIX_QUALITY) for photo, width in ranked]
        self.answered: set[str] = set()

    def next(self, _: int) -> tuple[str, str]:
        index = bisect.bisect_left(self.cumulative, self.random.random() * self.cumulative[-1])
        path = self.paths[min(index, PAIRS - 1)]
        return path, "hit" if path in self.answered else "render"

    def done(self, path: str, status: int) -> None:
        if status == 200:
            self.answered.add(path)


def mix(server: ServerProcess, spell: Spell, *, seconds: float, attempt: int) -> loadgen.Run:
    workload = ZipfMix(spell, attempt=attempt)
    return loadgen.drive(port_of(server), workload.next, connections=16, seconds=seconds, done=workload.done)


@dataclass(frozen=True)
class Encoded:
    size: int
    ssim: float


def encoded(url: str, ideal: pyvips.Image) -> Encoded:
    response = httpx.get(url, timeout=120)
    response.raise_for_status()
    return Encoded(len(response.content), quality.score(response.content, ideal))


# ---------------------------------------------------------------------------------------------
# Listing


def create_client(env: dict[str, str], name: str) -> str:
    done = subprocess.run(
        [*pinhole_command(), "clients", "create", "--name", name, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return str(json.loads(done.stdout)["apiKey"])


def clone_images(database: Path, image_id: str, copies: int) -> None:
    """`copies` more rows like image `image_id` (new ids, the same client), straight into the SQLite file."""
    with contextlib.closing(sqlite3.connect(database, timeout=60)) as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(images)")]
        picked = ", ".join("lower(hex(randomblob(16)))" if c == "id" else c for c in columns)
        db.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO images ({', '.join(columns)}) SELECT {picked} FROM images, n WHERE images.id = ?",
            (copies, image_id),
        )
        db.commit()


@dataclass(frozen=True)
class Listings:
    keys: dict[str, str]  # "1k"/"100k" -> the API key of a client with that many images
    next_cursor: str


def prepare_listing(server: ServerProcess) -> Listings:
    """Two clients, one with 1,000 images and one with 100,000 (rows cloned in SQL from one real upload)."""
    database = Path(server.env["PINHOLE_DATA_DIR"]) / "pinhole.db"
    small = photo_jpeg(64, 48, seed=5)
    keys = {}
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        for name, count in (("1k", 1000), ("100k", 100_000)):
            key = create_client(server.env, f"listing-{name}")
            response = client.post("/v2/images", headers={"X-API-Key": key}, files={"file": ("s.jpg", small)})
            response.raise_for_status()
            clone_images(database, str(response.json()["id"]), count - 1)
            keys[name] = key
        first = client.get("/v2/images", params={"limit": 50}, headers={"X-API-Key": keys["100k"]})
        first.raise_for_status()
    return Listings(keys, str(first.json()["pagination"]["nextCursor"]))


def listing(server: ServerProcess, prepared: Listings, *, rounds: int) -> dict[str, float]:
    """Median seconds of the first page (page mode) at 1k and 100k images, a cursor page and page 1000."""
    keys = prepared.keys
    asks: list[tuple[str, dict[str, str | int], str]] = [
        ("1k", {"limit": 50}, keys["1k"]),
        ("100k", {"limit": 50}, keys["100k"]),
        ("100k cursor", {"limit": 50, "cursor": prepared.next_cursor}, keys["100k"]),
        ("100k page 1000", {"limit": 50, "page": 1000}, keys["100k"]),
    ]
    times: dict[str, list[float]] = {name: [] for name, _, _ in asks}
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        for _ in range(rounds):
            for name, params, key in asks:
                started = time.perf_counter()
                client.get("/v2/images", params=params, headers={"X-API-Key": key}).raise_for_status()
                times[name].append(time.perf_counter() - started)
    return {name: median(values) for name, values in times.items()}


# ---------------------------------------------------------------------------------------------
# The run


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter load runs (about half the time)")
    parser.add_argument("--workers", type=int, default=None, help="pinhole worker processes (default: its own)")
    parser.add_argument("--skip", action="append", default=[], help="cold, mix, cached, bytes, listing, memory")
    parser.add_argument(
        "--attempts",
        type=int,
        default=loadgen.ATTEMPTS,
        help=f"tries per measurement while other processes disturb it (default {loadgen.ATTEMPTS})",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pinhole-bench-files-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(argv: list[str] | None = None) -> list[Row]:
    args = parse(argv)
    scale = 0.5 if args.quick else 1.0
    ensure_tools()
    ensure_thumbor()
    loadgen.notes.clear()
    loadgen.attempts = max(1, args.attempts)
    print(f"machine: {machine_note()}; {load_note()}", flush=True)
    rows: list[Row] = []
    photos = make_photos(PHOTOS)
    try:
        rows += _against_thumbor(args, photos, scale)
    finally:
        shutil.rmtree(photos.folder, ignore_errors=True)
    if "memory" not in args.skip:
        rows += _section("memory", lambda: _memory(args))
    report(rows)
    return rows


def _against_thumbor(args: argparse.Namespace, photos: Photos, scale: float) -> list[Row]:
    rows: list[Row] = []
    with (
        pinhole_server(workers=args.workers, settings=OPEN_RENDERS) as pinhole,
        thumbor_server(photos.folder) as thumbor,
    ):
        targets = Targets(upload_all(pinhole, photos))
        print(f"servers: pinhole {pinhole.base_url}, thumbor {thumbor.base_url}", flush=True)
        sections: list[tuple[str, Callable[[], list[Row]]]] = [
            ("bytes", lambda: _bytes(pinhole, thumbor, targets, photos)),
            ("cold", lambda: _cold(pinhole, thumbor, targets, photos, scale)),
            ("mix", lambda: _mix(pinhole, thumbor, targets, scale)),
            ("cached", lambda: _cached(args, pinhole, targets, scale)),
            ("listing", lambda: _listing(pinhole, scale)),
        ]
        for name, section in sections:
            if name not in args.skip:
                rows += _section(name, section)
    return rows


def _section(name: str, section: Callable[[], list[Row]]) -> list[Row]:
    """The section's rows, each printed as soon as measured; a section that fails is reported and skipped."""
    try:
        rows = section()
    except Exception as exc:  # a broken section must not cost the others' figures
        traceback.print_exc()
        loadgen.notes.append(f"{name}: FAILED ({exc!r}), see the traceback above")
        return []
    for found in rows:
        print(f"  {found.name}: {found.value:g} {found.unit} vs {found.baseline} ({found.baseline_name})", flush=True)
    return rows


def _bytes(pinhole: ServerProcess, thumbor: ServerProcess, targets: Targets, photos: Photos) -> list[Row]:
    ideal = quality.reference(photos.data[1], 800)
    rows = []
    for fmt, name in ((None, "jpeg"), ("webp", "webp")):
        ours = encoded(pinhole.base_url + targets.pinhole(1, 800, q=None, fmt=fmt), ideal)
        theirs = encoded(thumbor.base_url + targets.thumbor(1, 800, q=None, fmt=fmt), ideal)
        suffix = "" if name == "jpeg" else "_webp"
        size = row(f"bytes_vs_thumbor{suffix}", ours.size, "bytes", theirs.size, "thumbor", Goal("<=", 1.0))
        # Smaller only counts at equal or better SSIM (equal: within 0.001, the third decimal quoted).
        size = Row(**{**asdict(size), "met": bool(size.met) and ours.ssim >= theirs.ssim - 0.001})
        ssim_goal = Goal(">=", 0.999)
        rows += [size, row(f"ssim_vs_thumbor{suffix}", ours.ssim, "SSIM", theirs.ssim, "thumbor", ssim_goal)]
    return rows


def _cold(pinhole: ServerProcess, thumbor: ServerProcess, targets: Targets, photos: Photos, scale: float) -> list[Row]:
    rounds = max(5, int(15 * scale))
    seq, _ = loadgen.measure("cold one at a time", lambda _: cold_sequential(pinhole, thumbor, targets, photos, rounds))
    seconds = 20 * scale
    (ours, our_cpu), _ = loadgen.measure(
        "cold pinhole",
        lambda a: loadgen.cpu_seconds(
            pinhole.pid, lambda: cold_concurrent(pinhole, targets.pinhole, seconds=seconds, attempt=a)
        ),
    )
    (theirs, their_cpu), _ = loadgen.measure(
        "cold thumbor",
        lambda a: loadgen.cpu_seconds(
            thumbor.pid, lambda: cold_concurrent(thumbor, Targets.thumbor, seconds=seconds, attempt=a)
        ),
    )
    return [
        row("cold_throughput_vs_thumbor", ours.rps, "req/s", theirs.rps, "thumbor", Goal(">=", 1.3)),
        row(
            "cold_per_cpu_second_vs_thumbor", per_cpu(ours, our_cpu), "req/CPU-s", per_cpu(theirs, their_cpu), "thumbor"
        ),
        row("cold_p90_ms", ours.latency_ms(0.9), "ms", theirs.latency_ms(0.9), "thumbor"),
        row("cold_latency_vs_libvips", seq["pinhole"] * 1000, "ms", seq["libvips"] * 1000, "libvips", Goal("<=", 1.05)),
        row("cold_latency_vs_thumbor", seq["pinhole"] * 1000, "ms", seq["thumbor"] * 1000, "thumbor"),
        row("cold_errors", ours.errors + len(ours.results) - len(ours.ok()), "requests", theirs.errors, "thumbor"),
    ]


def per_cpu(run: loadgen.Run, cpu: float) -> float:
    """Answered requests per CPU-second the server spent: comparable when other processes took unequal shares."""
    return len(run.ok()) / cpu if cpu else 0.0


def _mix(pinhole: ServerProcess, thumbor: ServerProcess, targets: Targets, scale: float) -> list[Row]:
    seconds = 30 * scale
    (ours, our_cpu), _ = loadgen.measure(
        "mix pinhole",
        lambda a: loadgen.cpu_seconds(pinhole.pid, lambda: mix(pinhole, targets.pinhole, seconds=seconds, attempt=a)),
    )
    (theirs, their_cpu), _ = loadgen.measure(
        "mix thumbor",
        lambda a: loadgen.cpu_seconds(thumbor.pid, lambda: mix(thumbor, Targets.thumbor, seconds=seconds, attempt=a)),
    )
    hits = len(ours.ok("hit")) / max(1, len(ours.ok()))
    return [
        row("mix_throughput_vs_thumbor", ours.rps, "req/s", theirs.rps, "thumbor", Goal(">=", 3.0)),
        row(
            "mix_per_cpu_second_vs_thumbor", per_cpu(ours, our_cpu), "req/CPU-s", per_cpu(theirs, their_cpu), "thumbor"
        ),
        row(
            "mix_hit_p99_ms",
            ours.latency_ms(0.99, "hit"),
            "ms",
            theirs.latency_ms(0.99, "hit"),
            "thumbor",
            Goal("<=", 20, on="value"),
        ),
        row("mix_hit_p90_ms", ours.latency_ms(0.9, "hit"), "ms", theirs.latency_ms(0.9, "hit"), "thumbor"),
        row("mix_render_p90_ms", ours.latency_ms(0.9, "render"), "ms", theirs.latency_ms(0.9, "render"), "thumbor"),
        row("mix_hit_share", hits * 100, "%", len(theirs.ok("hit")) / max(1, len(theirs.ok())) * 100, "thumbor"),
        row(
            "mix_errors",
            len(ours.results) - len(ours.ok()),
            "requests",
            len(theirs.results) - len(theirs.ok()),
            "thumbor",
        ),
    ]


def _cached(args: argparse.Namespace, pinhole: ServerProcess, targets: Targets, scale: float) -> list[Row]:
    seconds = max(4, int(10 * scale))
    url = pinhole.base_url + targets.pinhole(2, 800, q=None, fmt="webp")
    with httpx.Client(timeout=120) as client:
        check_image_response(client.get(url), mime="image/webp")
        body = client.get(url).content
    with folder() as files:
        (files / "variant.webp").write_bytes(body)

        def wrk(base: str, path: str) -> Callable[[int], warm.Load]:
            return lambda _: warm.load(base + path, seconds=seconds, connections=64)

        ours, _ = loadgen.measure("cached pinhole", wrk(pinhole.base_url, url.removeprefix(pinhole.base_url)))
        with nginx_server(files) as nginx:
            edge, _ = loadgen.measure("cached nginx", wrk(nginx.base_url, "/variant.webp"))
        workers = args.workers or _pinhole_default_workers()
        with minimal_server({"/variant.webp": ("image/webp", files / "variant.webp")}, workers=workers) as minimal:
            bare, _ = loadgen.measure("cached minimal app", wrk(minimal.base_url, "/variant.webp"))
    return [
        row(
            "cached_vs_nginx",
            ours.requests_per_second,
            "req/s",
            edge.requests_per_second,
            "nginx (1 worker)",
            Goal(">=", 0.6),
        ),
        row(
            "cached_p99_vs_minimal",
            ours.p99_ms,
            "ms",
            bare.p99_ms,
            f"minimal ASGI app ({workers} worker(s))",
            Goal("<=", 3.0),
        ),
        row("cached_vs_minimal", ours.requests_per_second, "req/s", bare.requests_per_second, "minimal ASGI app"),
        row("cached_errors", ours.errors, "requests", edge.errors, "nginx"),
    ]


def _pinhole_default_workers() -> int:
    """What `pinhole serve` picks here with the bench's settings (no Redis)."""
    from pinhole.settings import Settings

    return Settings().server_workers


def _listing(pinhole: ServerProcess, scale: float) -> list[Row]:
    rounds = max(10, int(30 * scale))
    prepared = prepare_listing(pinhole)
    times, _ = loadgen.measure("listing", lambda _: listing(pinhole, prepared, rounds=rounds))
    return [
        row(
            "listing_first_page_100k_vs_1k",
            times["100k"] * 1000,
            "ms",
            times["1k"] * 1000,
            "first page at 1k",
            Goal("<=", 1.5),
        ),
        row("listing_cursor_page_100k_ms", times["100k cursor"] * 1000, "ms", times["1k"] * 1000, "first page at 1k"),
        row("listing_page_1000_100k_ms", times["100k page 1000"] * 1000, "ms", times["1k"] * 1000, "first page at 1k"),
    ]


MEMORY_BASELINES = {"upload, with EXIF (re-encoded)": 138.0, "GET ?w=800 (JPEG)": 33.0}


def _memory(args: argparse.Namespace) -> list[Row]:
    with_exif = photo_jpeg(memory.WIDTH, memory.HEIGHT, seed=3, exif=True)
    without_exif = photo_jpeg(memory.WIDTH, memory.HEIGHT, seed=4)
    with pinhole_server(workers=args.workers or 1, settings=memory.SETTINGS) as server:
        _, phases = memory.run_phases(server, with_exif, without_exif)
    rows = []
    for phase in phases:
        if phase.name in MEMORY_BASELINES:
            grown = (phase.peak - phase.before) / 1024
            name = "memory_upload_108mp_mib" if "upload" in phase.name else "memory_w800_of_108mp_mib"
            rows.append(row(name, grown, "MiB", MEMORY_BASELINES[phase.name], "2026-12 figure", Goal("<=", 1.05)))
    return rows


def load_note() -> str:
    """The load averages, as `uptime` shows them: how busy the shared machine was around this run."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def report(rows: list[Row]) -> None:
    def fmt(value: float | None) -> str:
        return "" if value is None else f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"

    table = [
        (
            r.name,
            f"{fmt(r.value)} {r.unit}",
            f"{fmt(r.baseline)} ({r.baseline_name})",
            fmt(r.ratio),
            r.goal,
            {True: "yes", False: "NO", None: ""}[r.met],
        )
        for r in rows
    ]
    print_table(
        f"pinhole against its peers; {machine_note()}", ("figure", "pinhole", "baseline", "ratio", "goal", "met"), table
    )
    print(f"after the run: {load_note()}")
    for note in loadgen.notes:
        print(f"note: {note}")
    RESULTS.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    run()
