"""The proxy URL languages against v2, same run: a cold and a warm request through thumbor, imgproxy, imgix and
Cloudinary URLs and through the v2 serve query asking for the same variant (`w=W`, quality 80, JPEG).

One server with every dialect enabled and signing on (each signs with its own secret, as a site would). Cold:
each iteration asks every path for a width never asked before (each path its own widths, interleaved so all see
the same machine), so each request renders. Warm: the same URL again and again (the variant is cached). The
ratio column is each path's median over v2's: the dialect's overhead (parsing, signature check, routing).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import time
from collections.abc import Callable

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
    print_table,
    ratio,
    upload,
)

SOURCE = (2000, 1500)
THUMBOR_KEY, IMGIX_TOKEN, CLOUD_SECRET = "bench-thumbor", "bench-imgix", "bench-cloudinary"
IMGPROXY_KEY, IMGPROXY_SALT = "a1b2c3d4", "e5f6a7b8"
SETTINGS = {
    "PINHOLE_DIALECTS__THUMBOR__ENABLED": "true",
    "PINHOLE_DIALECTS__THUMBOR__SECURITY_KEY": THUMBOR_KEY,
    "PINHOLE_DIALECTS__IMGPROXY__ENABLED": "true",
    "PINHOLE_DIALECTS__IMGPROXY__KEY": f'["{IMGPROXY_KEY}"]',
    "PINHOLE_DIALECTS__IMGPROXY__SALT": f'["{IMGPROXY_SALT}"]',
    "PINHOLE_DIALECTS__IMGIX__ENABLED": "true",
    "PINHOLE_DIALECTS__IMGIX__TOKEN": IMGIX_TOKEN,
    "PINHOLE_DIALECTS__CLOUDINARY__ENABLED": "true",
    "PINHOLE_DIALECTS__CLOUDINARY__CLOUD_NAME": "bench",
    "PINHOLE_DIALECTS__CLOUDINARY__API_SECRET": CLOUD_SECRET,
}

# Each path's URL for width `w` of image `i`, signed as the original service signs it.
UrlFor = Callable[[str, int], str]


def v2(image_id: str, width: int) -> str:
    return f"/v2/images/{image_id}?w={width}&q=80"


def thumbor(image_id: str, width: int) -> str:
    part = f"{width}x0/filters:quality(80)/{image_id}"
    digest = hmac.new(THUMBOR_KEY.encode(), part.encode(), hashlib.sha1).digest()
    return f"/thumbor/{base64.urlsafe_b64encode(digest).decode()}/{part}"


def imgproxy(image_id: str, width: int) -> str:
    path = f"/w:{width}/q:80/plain/pinhole://{image_id}"
    message = bytes.fromhex(IMGPROXY_SALT) + path.encode()
    digest = hmac.new(bytes.fromhex(IMGPROXY_KEY), message, hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def imgix(image_id: str, width: int) -> str:
    path, query = f"/{image_id}", f"q=80&w={width}"
    signature = hashlib.md5(f"{IMGIX_TOKEN}{path}?{query}".encode(), usedforsecurity=False).hexdigest()
    return f"/imgix{path}?{query}&s={signature}"


def cloudinary(image_id: str, width: int) -> str:
    part = f"c_scale,q_80,w_{width}/{image_id}"
    digest = hashlib.sha1((part + CLOUD_SECRET).encode(), usedforsecurity=False).digest()
    return f"/cloudinary/bench/image/upload/s--{base64.urlsafe_b64encode(digest).decode()[:8]}--/{part}"


PATHS: dict[str, UrlFor] = {
    "v2": v2,
    "thumbor": thumbor,
    "imgproxy": imgproxy,
    "imgix": imgix,
    "cloudinary": cloudinary,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20, help="cold requests per path (default 20)")
    parser.add_argument("--warm", type=int, default=200, help="warm requests per path (default 200)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    cold: dict[str, list[float]] = {name: [] for name in PATHS}
    warm: dict[str, list[float]] = {name: [] for name in PATHS}
    with pinhole_server(settings=SETTINGS) as server, http_client(server) as client:
        image_id = str(upload(client, server, photo_jpeg(*SOURCE, seed=3))["id"])

        def timed(url: str) -> float:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            check_image_response(response, mime="image/jpeg")
            return elapsed

        for url_for in PATHS.values():  # warm-up, and proof every URL is accepted
            timed(url_for(image_id, 300))
        for index in range(args.iterations):
            for offset, (name, url_for) in enumerate(PATHS.items()):  # interleaved
                cold[name].append(timed(url_for(image_id, 600 + index * len(PATHS) + offset)))
        for _ in range(args.warm):
            for name, url_for in PATHS.items():
                warm[name].append(timed(url_for(image_id, 300)))

    rows = []
    figures = []
    for kind, times in (("cold", cold), ("warm", warm)):
        base = median(times["v2"])
        for name in PATHS:
            value = median(times[name])
            rows.append((f"{name} ({kind})", ms(value), ms(percentile(times[name], 0.9)), ratio(value, base)))
            if name != "v2":
                figures.append(
                    Figure(
                        bench="proxies",
                        name=f"{name} {kind}, median",
                        value=ms(value),
                        baseline=f"{ms(base)} v2",
                        ratio=ratio(value, base),
                        target="~1.00x (noise)",
                    )
                )
    print_table(
        f"Proxy URL languages vs v2: {SOURCE[0]}x{SOURCE[1]} JPEG to w~600 JPEG q80, {args.iterations} cold and "
        f"{args.warm} warm requests per path; {machine_note()}",
        ("path", "median", "p90", "ratio to v2"),
        rows,
    )
    return figures


if __name__ == "__main__":
    run()
