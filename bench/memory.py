"""Peak server memory while ingesting and transforming a 12000x9000 (108 MP) JPEG.

The server's resident memory is the sum of VmRSS over the granian parent and its workers, sampled every 20 ms
in a thread; VmHWM (the kernel's own high-water mark, reset before each phase through /proc/<pid>/clear_refs)
catches peaks shorter than a sample. Phases, one request each, on one server:
upload with EXIF (pinhole decodes and re-encodes to strip it), upload without EXIF (decode check only),
`w=800` (JPEG), `w=4000&format=webp`. The baseline is the server's idle RSS before the first phase.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from common import (
    Figure,
    ServerProcess,
    check_image_response,
    http_client,
    machine_note,
    mib,
    photo_jpeg,
    pinhole_server,
    print_table,
    process_tree,
    reset_peak,
    status_kib,
    upload,
)

WIDTH, HEIGHT = 12000, 9000
SAMPLE_SECONDS = 0.02
SETTLE_SECONDS = 1.0
SETTINGS = {
    "PINHOLE_UPLOADS__MAX_PIXELS": "200000000",
    "PINHOLE_UPLOADS__MAX_FILE_BYTES": str(256 * 1024 * 1024),
}


class Sampler(threading.Thread):
    """Sums VmRSS over the server's process tree every 20 ms and keeps the highest sum since `restart()`."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.pids = process_tree(root)
        self.current = self.peak = self._total()
        self._stop_event = threading.Event()

    def _total(self) -> int:
        return sum(status_kib(pid, "VmRSS") for pid in self.pids)

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_SECONDS):
            self.current = self._total()
            self.peak = max(self.peak, self.current)

    def restart(self) -> None:
        self.pids = process_tree(self.root)
        self.current = self.peak = self._total()

    def high_water(self) -> int:
        return sum(status_kib(pid, "VmHWM") for pid in self.pids)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    before: int
    peak: int
    high_water: int | None
    after: int


def measure(sampler: Sampler, name: str, action: Callable[[], object]) -> Phase:
    time.sleep(SETTLE_SECONDS)
    sampler.restart()
    before = sampler.current
    can_reset = reset_peak(sampler.pids)
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    peak, high_water = sampler.peak, sampler.high_water()
    time.sleep(SETTLE_SECONDS)
    return Phase(name, seconds, before, max(peak, sampler.peak), high_water if can_reset else None, sampler.current)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    return parser.parse_args(argv)


def transform(client: httpx.Client, image_id: str, params: dict[str, str | int], mime: str) -> None:
    check_image_response(client.get(f"/v2/images/{image_id}", params=params), mime=mime)


def run_phases(server: ServerProcess, with_exif: bytes, without_exif: bytes) -> tuple[int, list[Phase]]:
    sampler = Sampler(server.pid)
    sampler.start()
    try:
        time.sleep(SETTLE_SECONDS)
        idle = sampler.current
        created: dict[str, str] = {}
        with http_client(server, timeout=300) as client:

            def send(data: bytes, key: str) -> None:
                created[key] = str(upload(client, server, data, name=f"{key}.jpg")["id"])

            phases = [
                measure(sampler, "upload, with EXIF (re-encoded)", lambda: send(with_exif, "exif")),
                measure(sampler, "upload, without EXIF (decode check)", lambda: send(without_exif, "plain")),
                measure(
                    sampler,
                    "GET ?w=800 (JPEG)",
                    lambda: transform(client, created["exif"], {"w": 800}, "image/jpeg"),
                ),
                measure(
                    sampler,
                    "GET ?w=4000&format=webp",
                    lambda: transform(client, created["exif"], {"w": 4000, "format": "webp"}, "image/webp"),
                ),
            ]
    finally:
        sampler.stop()
    return idle, phases


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    with_exif = photo_jpeg(WIDTH, HEIGHT, seed=3, exif=True)
    without_exif = photo_jpeg(WIDTH, HEIGHT, seed=4)
    with pinhole_server(workers=args.workers, settings=SETTINGS) as server:
        idle, phases = run_phases(server, with_exif, without_exif)

    rows = [("idle (start-up)", "", "", mib(idle), "", "", "", "")]
    for phase in phases:
        rows.append(
            (
                phase.name,
                f"{phase.seconds:.2f} s",
                mib(phase.before),
                mib(phase.peak),
                mib(phase.peak - phase.before),
                mib(phase.peak - idle),
                mib(phase.high_water) if phase.high_water is not None else "n/a",
                mib(phase.after),
            )
        )
    print_table(
        f"Server memory, {WIDTH}x{HEIGHT} JPEG ({len(with_exif) / 1e6:.0f} MB with EXIF, "
        f"{len(without_exif) / 1e6:.0f} MB without), {args.workers} worker(s), RSS summed over the server's "
        f"processes; {machine_note()}",
        ("phase", "time", "RSS before", "peak RSS", "peak - before", "peak - idle", "VmHWM sum", "RSS after"),
        rows,
    )
    return [
        Figure(
            bench="memory",
            name=f"peak RSS, {phase.name}",
            value=mib(phase.peak),
            baseline=f"{mib(phase.before)} before",
            ratio=f"+{mib(phase.peak - phase.before)}",
        )
        for phase in phases
    ]


if __name__ == "__main__":
    run()
