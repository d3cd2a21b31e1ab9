"""A memory soak: one `pinhole serve` worker under a mixed load for N minutes, RSS every 30 s and its trend.

The load (8 threads by default, each its own HTTP connection) mixes what a busy instance does: uploads of new
photos (unique bytes, so content-hash dedup never short-circuits), new variants (random width and format, so
libvips renders), cached variants, originals, list pages and deletes. Every 30 s the table gets a row: elapsed
time, the worker's RSS (the largest process of the server's tree: granian's worker) and the whole tree's, each
the mean of one reading a second over the window (with the worker's peak reading), the requests and errors of
the window, req/s, and what the worker's memory cache of hot images holds (from /metrics). At the end: RSS at
2, 5 and 10 minutes, the least-squares slope of RSS after the first two minutes (MiB per minute), the spread of
those samples around their mean, the largest single reading, and an idle sample after the load stops. The
goal: after two minutes, RSS within ±10% of its mean and no growth trend.

    python3 tasks.py bench soak                 # 10 minutes
    python3 tasks.py bench soak --minutes 3     # shorter
    .venv/bin/python bench/soak.py --minutes 3 --env MALLOC_ARENA_MAX=  # e.g. undo a start-up default
"""

from __future__ import annotations

import argparse
import random
import statistics
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from common import ServerProcess, http_client, machine_note, photo_jpeg, pinhole_server, print_table, process_tree
from common import status_kib as _status_kib

SAMPLE_SECONDS = 30.0
READ_SECONDS = 1.0
WARM_MINUTES = 2.0
PHOTO_SIZES = ((1600, 1200), (2400, 1800), (1200, 1600), (3000, 2000))
VARIANT_FORMATS = ("webp", "jpeg", "png", "avif")
OPERATIONS = (  # (name, weight)
    ("upload", 12),
    ("variant_new", 25),
    ("variant_cached", 18),
    ("original", 15),
    ("list", 18),
    ("delete", 6),
    ("info", 6),
)


def unique_jpeg(base: bytes, tag: int) -> bytes:
    """`base` with a JPEG comment segment after SOI that names `tag`: a valid, different file for each tag."""
    text = f"soak {tag} {random.random()}".encode()
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + base[2:]


@dataclass
class Shared:
    """What the load threads share: the ids they made, the counters of the current window."""

    ids: list[str] = field(default_factory=list)
    variants: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    tag: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def next_tag(self) -> int:
        with self.lock:
            self.tag += 1
            return self.tag

    def pick(self) -> str | None:
        with self.lock:
            return random.choice(self.ids) if self.ids else None

    def count(self, name: str, response: httpx.Response | None, error: str = "") -> None:
        with self.lock:
            self.requests[name] += 1
            bad = response is None or response.status_code >= 500 or (response.status_code >= 400 and not error)
            if bad:
                self.errors[name] += 1
                if len(self.error_samples) < 10:
                    detail = error or f"{response.status_code} {response.text[:160]}" if response is not None else error
                    self.error_samples.append(f"{name}: {detail}")


class Load(threading.Thread):
    def __init__(self, server: ServerProcess, shared: Shared, bases: list[bytes], seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.shared, self.bases = server, shared, bases
        self.random = random.Random(seed)
        names, weights = zip(*OPERATIONS, strict=True)
        self.names, self.weights = list(names), list(weights)

    def run(self) -> None:
        with http_client(self.server, timeout=120) as client:
            client.headers.update(self.server.headers)
            while not self.shared.stop.is_set():
                name = self.random.choices(self.names, self.weights)[0]
                try:
                    response = getattr(self, name)(client)
                except httpx.HTTPError as exc:
                    self.shared.count(name, None, f"{type(exc).__name__}: {exc}")
                    continue
                if response is not None:
                    self.shared.count(name, response)

    def upload(self, client: httpx.Client) -> httpx.Response:
        data = unique_jpeg(self.random.choice(self.bases), self.shared.next_tag())
        response = client.post("/v2/images", files={"file": ("soak.jpg", data, "image/jpeg")})
        if response.status_code == 201:
            with self.shared.lock:
                self.shared.ids.append(str(response.json()["id"]))
        return response

    def variant_new(self, client: httpx.Client) -> httpx.Response | None:
        image_id = self.shared.pick()
        if image_id is None:
            return None
        params = {"w": str(self.random.randint(64, 1400)), "format": self.random.choice(VARIANT_FORMATS)}
        response = client.get(f"/v2/images/{image_id}", params=params)
        if response.status_code == 200:
            with self.shared.lock:
                self.shared.variants.append((image_id, params))
                del self.shared.variants[:-500]
        return self._gone_is_fine(response)

    def variant_cached(self, client: httpx.Client) -> httpx.Response | None:
        with self.shared.lock:
            picked = self.random.choice(self.shared.variants) if self.shared.variants else None
        if picked is None:
            return None
        return self._gone_is_fine(client.get(f"/v2/images/{picked[0]}", params=picked[1]))

    def original(self, client: httpx.Client) -> httpx.Response | None:
        image_id = self.shared.pick()
        return None if image_id is None else self._gone_is_fine(client.get(f"/v2/images/{image_id}"))

    def info(self, client: httpx.Client) -> httpx.Response | None:
        image_id = self.shared.pick()
        if image_id is None:
            return None
        return self._gone_is_fine(client.get(f"/v2/images/{image_id}", params={"info": "true"}))

    def list(self, client: httpx.Client) -> httpx.Response:
        return client.get("/v2/images", params={"page": str(self.random.randint(1, 5)), "limit": "50"})

    def delete(self, client: httpx.Client) -> httpx.Response | None:
        with self.shared.lock:
            if len(self.shared.ids) < 60:
                return None
            image_id = self.shared.ids.pop(self.random.randrange(len(self.shared.ids)))
        return self._gone_is_fine(client.delete(f"/v2/images/{image_id}"))

    @staticmethod
    def _gone_is_fine(response: httpx.Response) -> httpx.Response:
        """Another thread may have deleted the image in between: a 404 then is the right answer, not an error."""
        if response.status_code == 404:
            response.status_code = 200
        return response


@dataclass(frozen=True)
class Sample:
    minute: float
    worker_kib: int
    tree_kib: int
    requests: int
    errors: int
    seconds: float
    cache_kib: int = 0  # what the worker's memory cache of hot images held (pinhole_memory_cache_bytes)
    peak_kib: int = 0  # the largest reading of the window


def rss(server: ServerProcess) -> tuple[int, int]:
    """(the largest process of the server's tree, the whole tree), VmRSS in KiB."""
    values = [_status_kib(pid, "VmRSS") for pid in process_tree(server.pid)]
    return max(values, default=0), sum(values)


def read_window(server: ServerProcess, seconds: float) -> list[tuple[int, int]]:
    """RSS readings (worker, tree) every READ_SECONDS for `seconds`. A sample is their mean: one instant's reading
    moves by tens of MiB with whatever the 8 requests in flight hold at that moment (a 12 MP upload decodes to
    ~36 MB), which says nothing about growth; the window's peak is kept too."""
    readings = [rss(server)]
    deadline = time.monotonic() + max(0.0, seconds)
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(READ_SECONDS, left))
        readings.append(rss(server))
    return readings


def memory_cache_kib(server: ServerProcess) -> int:
    """The server's `pinhole_memory_cache_bytes` (its hot-image cache, bounded by delivery.memory_cache_bytes)."""
    try:
        text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return 0
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith("pinhole_memory_cache_bytes")]
    return int(sum(float(value) for value in values) / 1024)


def slope_mib_per_minute(samples: list[Sample]) -> float:
    if len(samples) < 2:
        return float("nan")
    xs = [s.minute for s in samples]
    ys = [s.worker_kib / 1024 for s in samples]
    return statistics.linear_regression(xs, ys).slope


def deviation(samples: list[Sample]) -> float:
    """The largest distance from the mean, in % of it."""
    values = [s.worker_kib for s in samples]
    if not values:
        return float("nan")
    mean = statistics.fmean(values)
    return max(abs(value - mean) / mean for value in values) * 100


def at_minute(samples: list[Sample], minute: float, *, cache: bool = False) -> str:
    near = [s for s in samples if abs(s.minute - minute) <= SAMPLE_SECONDS / 60 / 2 + 1e-6]
    return f"{(near[0].cache_kib if cache else near[0].worker_kib) / 1024:.0f} MiB" if near else "n/a"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="load threads (default 8)")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle wait before the last sample")
    parser.add_argument("--sample-seconds", type=float, default=SAMPLE_SECONDS, help="seconds between samples")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the server"
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Sample]:
    args = parse(argv)
    bases = [photo_jpeg(w, h, seed=i + 1, quality=88) for i, (w, h) in enumerate(PHOTO_SIZES)]
    extra = dict(item.split("=", 1) for item in args.env)
    settings = {"PINHOLE_RATE_LIMITS__ENABLED": "false", **extra}
    samples: list[Sample] = []
    with pinhole_server(workers=1, settings=settings) as server:
        shared = Shared()
        loads = [Load(server, shared, bases, seed) for seed in range(args.concurrency)]
        start_worker, start_tree = rss(server)
        print(f"soak: {args.minutes:g} min, {args.concurrency} threads, {machine_note()}", flush=True)
        print(f"start: worker {start_worker / 1024:.0f} MiB, tree {start_tree / 1024:.0f} MiB", flush=True)
        started = last = time.monotonic()
        for load in loads:
            load.start()
        end = started + args.minutes * 60
        while time.monotonic() < end:
            readings = read_window(server, min(args.sample_seconds, end - time.monotonic()))
            now = time.monotonic()
            with shared.lock:
                requests, errors = sum(shared.requests.values()), sum(shared.errors.values())
                shared.requests.clear()
                shared.errors.clear()
            worker = int(statistics.fmean(w for w, _ in readings))
            tree = int(statistics.fmean(t for _, t in readings))
            peak = max(w for w, _ in readings)
            cache = memory_cache_kib(server)
            sample = Sample((now - started) / 60, worker, tree, requests, errors, now - last, cache, peak)
            samples.append(sample)
            last = now
            print(
                f"  {sample.minute:5.1f} min  worker {worker / 1024:6.0f} MiB (peak {peak / 1024:4.0f})  "
                f"tree {tree / 1024:6.0f} MiB  {requests / sample.seconds:6.1f} req/s  errors {errors}  "
                f"memory cache {cache / 1024:4.0f} MiB",
                flush=True,
            )
        shared.stop.set()
        for load in loads:
            load.join(timeout=180)
        time.sleep(args.idle_seconds)
        idle_worker, _ = rss(server)
        images = len(shared.ids)
    report(args, samples, start_worker, idle_worker, images, shared.error_samples)
    return samples


def report(
    args: argparse.Namespace, samples: list[Sample], start: int, idle: int, images: int, error_samples: list[str]
) -> None:
    rows = [
        (
            f"{s.minute:.1f}",
            f"{s.worker_kib / 1024:.0f}",
            f"{s.peak_kib / 1024:.0f}",
            f"{s.tree_kib / 1024:.0f}",
            s.requests,
            s.errors,
            f"{s.requests / s.seconds:.1f}",
            f"{s.cache_kib / 1024:.0f}",
        )
        for s in samples
    ]
    print_table(
        f"RSS every {args.sample_seconds:g} s ({args.concurrency} threads, 1 worker)",
        (
            "minute",
            "worker MiB (mean)",
            "worker peak MiB",
            "tree MiB",
            "requests",
            "errors",
            "req/s",
            "memory cache MiB",
        ),
        rows,
    )
    warm = [s for s in samples if s.minute >= WARM_MINUTES - 1e-6] or samples
    spread = deviation(warm)
    total_requests = sum(s.requests for s in samples)
    total_seconds = sum(s.seconds for s in samples)
    slope = slope_mib_per_minute(warm)
    summary = [
        ("worker RSS at start", f"{start / 1024:.0f} MiB"),
        ("worker RSS at 2 / 5 / 10 min", " / ".join(at_minute(samples, m) for m in (2, 5, 10))),
        ("worker RSS at the end", f"{samples[-1].worker_kib / 1024:.0f} MiB" if samples else "n/a"),
        (f"worker RSS idle ({args.idle_seconds:g} s after the load)", f"{idle / 1024:.0f} MiB"),
        (f"slope after {WARM_MINUTES:g} min", f"{slope:+.1f} MiB/min"),
        (f"largest deviation from the mean after {WARM_MINUTES:g} min", f"{spread:.1f}% (goal ≤ 10%)"),
        (f"largest 1-s reading after {WARM_MINUTES:g} min", f"{max(s.peak_kib for s in warm) / 1024:.0f} MiB"),
        ("memory cache at 2 / 5 / 10 min", " / ".join(at_minute(samples, m, cache=True) for m in (2, 5, 10))),
        ("requests / errors", f"{total_requests} / {sum(s.errors for s in samples)}"),
        ("req/s", f"{total_requests / total_seconds:.1f}" if total_seconds else "n/a"),
        ("live images at the end", images),
    ]
    print_table("Soak summary", ("figure", "value"), summary)
    for line in error_samples:
        print(f"  error: {line}")


if __name__ == "__main__":
    run()
