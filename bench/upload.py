"""Upload of a 12-megapixel photo (4000x3000 JPEG at Q90), with and without EXIF, against the same work in-process.

With EXIF pinhole strips the metadata: it decodes the whole image and re-encodes it at Q95. Without, it keeps
the file and only proves it decodes. Every upload sends new bytes (another seed), so content-hash dedup never
short-circuits. Each HTTP upload is compared with, on the same file in this process:
- pinhole's own ingest step (`pinhole.imaging.ingest.prepare_original`): the imaging work without HTTP, multipart,
  database or blob store;
- the bare libvips calls that step boils down to (decode + Q95 re-encode, or decode only) plus SHA-256.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyvips

from common import (
    Figure,
    http_client,
    machine_note,
    median,
    ms,
    percentile,
    photo_jpeg,
    pinhole_server,
    print_table,
    ratio,
    upload,
)
from pinhole.imaging.ingest import prepare_original
from pinhole.imaging.inspect import ImageLimits

MAX_FILE_BYTES = 64 * 1024 * 1024
LIMITS = ImageLimits(max_pixels=50_000_000, max_frames=500)


def libvips_only(path: Path, *, exif: bool) -> None:
    """What the ingest step costs in libvips and hashing alone."""
    data = path.read_bytes()
    hashlib.sha256(data).hexdigest()
    if exif:
        image = pyvips.Image.new_from_file(str(path), access="random", fail_on="error")
        encoded = image.jpegsave_buffer(Q=95, optimize_coding=True, keep="icc")
        hashlib.sha256(encoded).hexdigest()
    else:
        pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error").avg()


def in_process(path: Path, work: Path) -> None:
    prepared = prepare_original(path, work_dir=work, limits=LIMITS, strip_metadata=True)
    if prepared.path != path:
        prepared.path.unlink()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=8, help="timed uploads per kind (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    pyvips.cache_set_max(0)
    kinds = {"with EXIF": True, "without EXIF": False}
    # Seed 0 of each kind warms up (first thread, first database write); it is not timed.
    files = {
        kind: [photo_jpeg(4000, 3000, seed=s, exif=exif) for s in range(args.iterations + 1)]
        for kind, exif in kinds.items()
    }
    times: dict[str, dict[str, list[float]]] = {kind: {"http": [], "ingest": [], "libvips": []} for kind in kinds}
    stored: dict[str, list[int]] = {kind: [] for kind in kinds}
    work = Path(tempfile.mkdtemp(prefix="pinhole-bench-upload-"))
    settings = {"PINHOLE_UPLOADS__MAX_FILE_BYTES": str(MAX_FILE_BYTES)}
    try:
        with pinhole_server(workers=args.workers, settings=settings) as server, http_client(server) as client:
            for index in range(args.iterations + 1):
                for kind, exif in kinds.items():
                    data = files[kind][index]
                    path = work / f"{index}-{exif}.jpg"
                    path.write_bytes(data)
                    started = time.perf_counter()
                    created = upload(client, server, data)
                    spent = {
                        "http": time.perf_counter() - started,
                        "ingest": timed(functools.partial(in_process, path, work)),
                        "libvips": timed(functools.partial(libvips_only, path, exif=exif)),
                    }
                    if index:
                        stored[kind].append(int(str(created["size"])))
                        for side, seconds in spent.items():
                            times[kind][side].append(seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows, figures = [], []
    for kind in kinds:
        size = sum(len(data) for data in files[kind][1:]) / args.iterations
        http, ingest, bare = (median(times[kind][side]) for side in ("http", "ingest", "libvips"))
        rows.append(
            (
                kind,
                f"{size / 1e6:.2f} MB",
                f"{median(stored[kind]) / 1e6:.2f} MB",
                ms(http),
                ms(percentile(times[kind]["http"], 0.9)),
                f"{size / 1e6 / http:.1f} MB/s",
                ms(ingest),
                ms(bare),
                ratio(http, ingest),
                ratio(http, bare),
            )
        )
        figures.append(
            Figure(
                bench="upload",
                name=f"12 MP JPEG {kind}, median",
                value=f"{ms(http)} ({size / 1e6 / http:.1f} MB/s)",
                baseline=f"{ms(bare)} libvips direct",
                ratio=ratio(http, bare),
            )
        )
    print_table(
        f"Upload: 4000x3000 JPEG Q90, {args.iterations} sequential uploads per kind (new bytes each), "
        f"{args.workers} worker(s); {machine_note()}",
        (
            "file",
            "size",
            "stored",
            "HTTP median",
            "HTTP p90",
            "HTTP MB/s",
            "ingest step",
            "libvips only",
            "HTTP/ingest",
            "HTTP/libvips",
        ),
        rows,
    )
    return figures


if __name__ == "__main__":
    run()
