"""Cold transform through HTTP against the same libvips work called directly, in the same run.

A 4000x3000 photo-like JPEG is uploaded once; each timed request asks for a variant never made before
(`w=800` and a new `q`, then `w=801`... once the 36 qualities 60-95 are used), so pinhole renders every time.
The direct side runs the libvips calls pinhole's pipeline makes (src/pinhole/imaging/pipeline.py: shrink-on-load
thumbnail to sRGB, JPEG save with no metadata, optimize_coding and interlace) on the stored original, with
the same (w, q) sequence, interleaved with the HTTP requests so both see the same machine.
"""

from __future__ import annotations

import argparse
import time

import pyvips

from common import (
    Figure,
    check_image_response,
    http_client,
    machine_note,
    median,
    ms,
    percentile,
    photo_jpeg,
    pinhole_server,
    pipeline_colour,
    print_table,
    ratio,
    upload,
)

UNBOUNDED = 10_000_000  # what pinhole's planner passes as the free side of a `w`-only box
SOURCE = (4000, 3000)
TARGET = 1.3


def variant(index: int) -> tuple[int, int]:
    """The (w, q) of the index-th cold variant: 36 qualities per width, then the next width."""
    return 800 + index // 36, 60 + index % 36


def direct(source: bytes, *, width: int, quality: int, intermediate: bytes | None = None) -> bytes:
    """The libvips calls pinhole makes for `?w=<width>&q=<quality>` on a JPEG original: from the original, or (from
    its second render on, for small outputs) from its intermediate (src/pinhole/imaging/intermediate.py)."""
    from pinhole.imaging.formats import JPEG

    if intermediate is None:
        colour = pipeline_colour(source)
        image = pyvips.Image.thumbnail_buffer(source, width, height=UNBOUNDED, size="down", option_string="", **colour)
    else:
        height = round(SOURCE[1] * width / SOURCE[0])
        image = pyvips.Image.thumbnail_buffer(intermediate, width, height=height, size="force")
    return bytes(image.jpegsave_buffer(Q=quality, keep="none", **JPEG.save_options))


def intermediate_of(source: bytes) -> bytes | None:
    """What pinhole renders small variants of `source` from after its first render (None before intermediates)."""
    try:
        from pinhole.imaging import intermediate
    except ImportError:
        return None
    return intermediate.make(source, colour=pipeline_colour(source))[0]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=30, help="timed variants per side (default 30)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    # pinhole turns libvips' operation cache off; so must we, or repeated thumbnails would be free here.
    pyvips.cache_set_max(0)
    original = photo_jpeg(*SOURCE, seed=7)
    http_times: list[float] = []
    direct_times: list[float] = []
    with pinhole_server(workers=args.workers) as server, http_client(server) as client:
        image_id = upload(client, server, original)["id"]
        stored = client.get(f"/v2/images/{image_id}").content  # what pinhole renders from

        def fetch(width: int, quality: int) -> tuple[float, bytes]:
            started = time.perf_counter()
            response = client.get(f"/v2/images/{image_id}", params={"w": width, "q": quality})
            elapsed = time.perf_counter() - started
            check_image_response(response, mime="image/jpeg")
            return elapsed, response.content

        # Warm-up (imports, first thread, first database connection), and proof that both sides do the same work.
        if fetch(800, 59)[1] != direct(stored, width=800, quality=59):
            print("WARNING: pinhole's output differs from the direct libvips call: the comparison is off")
        intermediate = intermediate_of(stored)  # made once by pinhole too, at its second render
        for index in range(args.iterations):
            width, quality = variant(index)
            started = time.perf_counter()
            direct(stored, width=width, quality=quality, intermediate=intermediate)
            direct_times.append(time.perf_counter() - started)
            http_times.append(fetch(width, quality)[0])

    http_median, direct_median = median(http_times), median(direct_times)
    rows = [
        (
            "HTTP GET ?w=800&q=N (cold)",
            ms(http_median),
            ms(percentile(http_times, 0.9)),
            ratio(http_median, direct_median),
        ),
        ("libvips direct", ms(direct_median), ms(percentile(direct_times, 0.9)), "1.00x"),
        ("difference (pinhole overhead)", ms(http_median - direct_median), "", ""),
    ]
    print_table(
        f"Cold transform: 4000x3000 JPEG ({len(stored) / 1e6:.1f} MB stored) to w=800 JPEG, "
        f"{args.iterations} variants, {args.workers} worker(s); {machine_note()}",
        ("path", "median", "p90", "ratio"),
        rows,
    )
    return [
        Figure(
            bench="transform",
            name="cold w=800 JPEG, median",
            value=ms(http_median),
            baseline=f"{ms(direct_median)} libvips direct",
            ratio=ratio(http_median, direct_median),
            target=f"<= {TARGET}x",
        )
    ]


if __name__ == "__main__":
    run()
