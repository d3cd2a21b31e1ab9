"""What placeholders (BlurHash, ThumbHash, colour, LQIP) add to an upload: a 12 MP HEIC and a 12 MP JPEG.

Two `pinhole serve` processes run in the same run, one with `PINHOLE_UPLOADS__PLACEHOLDERS=true`, one with
`false`; uploads alternate between them (same files, in the same order) so both see the same machine load. The
imaging step alone (`prepare_original` with and without placeholders) is timed in this process too, interleaved,
which is the tighter comparison (no HTTP, multipart, database or store noise): it is repeated `--repeats` times
per file, each repeat a pair (on, off, in alternating order), and the cost is the median of the pairs' ratios with
their interquartile range, so load that drifts during the run cancels out within a pair. Last, the placeholder work
alone (`compute(small_from(...))` on the check decode, already in memory) is timed on its own: the absolute cost
that the on/off difference estimates. Every file is new bytes per iteration (another seed).
"""

from __future__ import annotations

import argparse
import functools
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pillow_heif
import pyvips

import common
from common import Figure, http_client, machine_note, median, ms, photo, photo_jpeg, pinhole_server, print_table, upload
from pinhole.imaging.ingest import prepare_original
from pinhole.imaging.inspect import ImageLimits, inspect_image
from pinhole.imaging.loader import load_for_check
from pinhole.imaging.pillow_codecs import decode
from pinhole.imaging.placeholder import compute, small_from

MAX_FILE_BYTES = 64 * 1024 * 1024
LIMITS = ImageLimits(max_pixels=50_000_000, max_frames=500)


EXIF = b"Exif\0\0" + bytes(64)


@functools.cache
def photo_heic(width: int, height: int) -> bytes:
    """`photo()` as a HEIC with EXIF (x265 through pillow-heif, quality 80). Encoded once, with x265's ultrafast
    preset: a 12 MP encode at the default preset took 3 minutes on the shared 2-core machine, ultrafast 18 s; the
    file is larger than a phone's (about 6.5 MB), which makes its decode, the upload's main cost, a little slower."""
    image = photo(width, height, seed=0)
    heif = pillow_heif.from_bytes(mode="RGB", size=(width, height), data=bytes(image.write_to_memory()))
    buffer = io.BytesIO()
    heif.save(buffer, quality=80, exif=EXIF, enc_params={"preset": "ultrafast"})
    return buffer.getvalue()


def heic_12mp(seed: int) -> bytes:
    """The one encoded HEIC made new bytes per seed in its EXIF payload (uploads are deduplicated by content)."""
    base = photo_heic(4000, 3000)
    assert base.count(EXIF) == 1
    return base.replace(EXIF, b"Exif\0\0" + seed.to_bytes(64, "big"))


def jpeg_12mp(seed: int) -> bytes:
    return photo_jpeg(4000, 3000, seed=seed, exif=True)


def ingest(path: Path, work: Path, *, placeholders: bool) -> None:
    prepared = prepare_original(path, work_dir=work, limits=LIMITS, strip_metadata=True, placeholders=placeholders)
    if prepared.path != path:
        prepared.path.unlink()


def placeholder_work(path: Path) -> float:
    """Seconds the placeholders alone take, from the check decode already in memory (the upload's own work)."""
    inspected = inspect_image(path, limits=LIMITS)
    fmt = inspected.format
    if fmt.decoder == "pillow":
        decoded = decode(path.read_bytes(), fmt=fmt)
    else:
        decoded = load_for_check(path, format=fmt, longest=max(inspected.width, inspected.height)).copy_memory()
    return timed(lambda: compute(small_from(decoded)))


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    low, mid, high = statistics.quantiles(values, n=4)
    return low, mid, high


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=6, help="timed uploads per kind and side (default 6)")
    parser.add_argument("--repeats", type=int, default=3, help="in-process (on, off) pairs per file (default 3)")
    parser.add_argument(
        "--start-timeout", type=float, default=180.0, help="seconds a server may take to start (busy machines)"
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    common.START_TIMEOUT = args.start_timeout
    pyvips.cache_set_max(0)
    makers: dict[str, tuple[Callable[[int], bytes], str]] = {
        "12 MP HEIC": (heic_12mp, "heic"),
        "12 MP JPEG (EXIF)": (jpeg_12mp, "jpg"),
    }
    files = {kind: [maker(seed) for seed in range(args.iterations + 1)] for kind, (maker, _) in makers.items()}
    sides = ("on", "off")
    times: dict[str, dict[str, list[float]]] = {
        kind: {f"{where} {side}": [] for where in ("http", "ingest") for side in sides} for kind in makers
    }
    pairs: dict[str, list[float]] = {kind: [] for kind in makers}  # ingest on / ingest off, per pair
    alone: dict[str, list[float]] = {kind: [] for kind in makers}
    work = Path(tempfile.mkdtemp(prefix="pinhole-bench-placeholders-"))
    base = {"PINHOLE_UPLOADS__MAX_FILE_BYTES": str(MAX_FILE_BYTES)}
    try:
        with (
            pinhole_server(settings={**base, "PINHOLE_UPLOADS__PLACEHOLDERS": "true"}) as with_them,
            pinhole_server(settings={**base, "PINHOLE_UPLOADS__PLACEHOLDERS": "false"}) as without,
            http_client(with_them) as client_on,
            http_client(without) as client_off,
        ):
            servers = {"on": (with_them, client_on), "off": (without, client_off)}
            for index in range(args.iterations + 1):  # index 0 warms up, untimed
                print(f"iteration {index} of {args.iterations}", file=sys.stderr, flush=True)
                for kind, (_, suffix) in makers.items():
                    data = files[kind][index]
                    path = work / f"{index}.{suffix}"
                    path.write_bytes(data)
                    order = sides if index % 2 else tuple(reversed(sides))
                    for side in order:
                        server, client = servers[side]
                        http = timed(partial(upload, client, server, data, name=path.name))
                        if index:
                            times[kind][f"http {side}"].append(http)
                    for repeat in range(args.repeats if index else 1):
                        pair = {}
                        for side in sides if (index + repeat) % 2 else tuple(reversed(sides)):
                            pair[side] = timed(partial(ingest, path, work, placeholders=side == "on"))
                        if index:
                            times[kind]["ingest on"].append(pair["on"])
                            times[kind]["ingest off"].append(pair["off"])
                            pairs[kind].append(pair["on"] / pair["off"])
                    if index:
                        alone[kind].append(placeholder_work(path))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows, figures = [], []
    for kind in makers:
        m = {name: median(values) for name, values in times[kind].items()}
        http_cost = m["http on"] / m["http off"] - 1
        low, mid, high = quartiles(pairs[kind])
        work_alone = median(alone[kind])
        rows.append(
            (
                kind,
                ms(m["http off"]),
                ms(m["http on"]),
                f"{http_cost:+.1%}",
                ms(m["ingest off"]),
                ms(m["ingest on"]),
                f"{mid - 1:+.1%} [{low - 1:+.1%}, {high - 1:+.1%}]",
                f"{ms(work_alone)} ({work_alone / m['ingest off']:.1%})",
            )
        )
        figures.append(
            Figure(
                bench="placeholders",
                name=f"{kind} upload with placeholders, median",
                value=ms(m["http on"]),
                baseline=f"{ms(m['http off'])} without",
                ratio=f"{http_cost:+.1%}",
                target="a few percent",
            )
        )
    print_table(
        f"Placeholders at upload: {args.iterations} uploads per kind and side, alternating, "
        f"{args.iterations * args.repeats} in-process pairs; {machine_note()}",
        (
            "file",
            "HTTP off",
            "HTTP on",
            "HTTP cost",
            "ingest off",
            "ingest on",
            "ingest cost, paired median [IQR]",
            "placeholder work alone (of ingest off)",
        ),
        rows,
    )
    return figures


if __name__ == "__main__":
    run()
