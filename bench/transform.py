"""Cold transform through HTTP against the same libvips work called directly, in the same run.

A 4000x3000 photo-like JPEG is uploaded once; each timed request asks for a variant never made before
(`w=800` and a new `q`, then `w=801`... once the 36 qualities 60-95 are used), so pinhole renders every time.
The direct side runs the libvips calls pinhole's pipeline makes (src/pinhole/imaging/pipeline.py: shrink-on-load
thumbnail, converted to sRGB only where the source needs it, JPEG save with no metadata and the JPEG format's save
options) on the stored original, then on its intermediate as pinhole does from the second render on, with the same
(w, q) sequence, interleaved with the HTTP requests so both see the same machine. Both paths are first checked to
give pinhole's bytes exactly.
"""

from __future__ import annotations

import argparse
import time

import httpx
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

SOURCE = (4000, 3000)
TARGET = 1.3


def variant(index: int) -> tuple[int, int]:
    """The (w, q) of the index-th cold variant: 36 qualities per width, then the next width."""
    return 800 + index // 36, 60 + index % 36


def direct(source: bytes, *, width: int, quality: int, intermediate: bytes | None = None) -> bytes:
    """The libvips calls pinhole makes for `?w=<width>&q=<quality>` on a JPEG original: from the original (its planner,
    src/pinhole/imaging/geometry.py, gives the exact output size; thumbnail then loads straight to it), or (from its
    second render on, for small outputs) from its intermediate (src/pinhole/imaging/intermediate.py)."""
    from pinhole.imaging.formats import JPEG

    if intermediate is None:
        colour = pipeline_colour(source)
        header = pyvips.Image.new_from_buffer(source, "", access="sequential")
        height = max(1, round(header.height * width / header.width))
        image = pyvips.Image.thumbnail_buffer(source, width, height=height, size="force", option_string="", **colour)
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


def smart(client: httpx.Client, image_id: str, index: int) -> float:
    """One cold smart-crop render (libvips attention) through HTTP: a new (size, quality) each time."""
    width, quality = variant(index)
    params: dict[str, str | int] = {"w": width, "h": width, "fit": "cover", "gravity": "smart", "q": quality}
    started = time.perf_counter()
    response = client.get(f"/v2/images/{image_id}", params=params, headers={"Accept": "*/*"})
    elapsed = time.perf_counter() - started
    check_image_response(response, mime="image/jpeg")
    return elapsed


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
    # Every request here is a stranger's cold render: lift the render budget (60 a minute by default).
    settings = {"PINHOLE_TRANSFORMS__STRANGER_RENDERS_PER_MINUTE": "0"}
    with pinhole_server(workers=args.workers, settings=settings) as server, http_client(server) as client:
        image_id = str(upload(client, server, original)["id"])
        stored = client.get(f"/v2/images/{image_id}").content  # what pinhole renders from

        def fetch(width: int, quality: int) -> tuple[float, bytes]:
            started = time.perf_counter()
            response = client.get(f"/v2/images/{image_id}", params={"w": width, "q": quality})
            elapsed = time.perf_counter() - started
            check_image_response(response, mime="image/jpeg")
            return elapsed, response.content

        # Warm-up (imports, first thread, first database connection), and proof that both sides do the same work.
        intermediate = intermediate_of(stored)  # made once by pinhole too, at its second render
        for width, start in ((800, None), (799, intermediate)):  # from the original, then from the intermediate
            if fetch(width, 59)[1] != direct(stored, width=width, quality=59, intermediate=start):
                print("WARNING: pinhole's output differs from the direct libvips call: the comparison is off")
        for index in range(args.iterations):
            width, quality = variant(index)
            started = time.perf_counter()
            direct(stored, width=width, quality=quality, intermediate=intermediate)
            direct_times.append(time.perf_counter() - started)
            http_times.append(fetch(width, quality)[0])
        smart_times = [smart(client, image_id, index) for index in range(args.iterations)]

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
        (
            "HTTP GET ?w=800&h=800&fit=cover&gravity=smart&q=N (cold)",
            ms(median(smart_times)),
            ms(percentile(smart_times, 0.9)),
            ratio(median(smart_times), direct_median),
        ),
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
        ),
        Figure(
            bench="transform",
            name="cold smart crop 800x800 JPEG, median",
            value=ms(median(smart_times)),
            baseline=f"{ms(direct_median)} libvips direct plain resize",
            ratio=ratio(median(smart_times), direct_median),
        ),
    ]


if __name__ == "__main__":
    run()
