"""Per-format default quality: which WebP and AVIF quality looks like JPEG at pinhole's default, and at what size.

For each photo given (any format libvips reads), the pipeline's encoders (src/pinhole/imaging/formats.py save
options) write JPEG at `--jpeg` quality and WebP/AVIF over a range of qualities; SSIM (greyscale, 7x7 windows)
against the decoded source measures the look. The table lists, per format and quality, the mean SSIM and the
mean size relative to the JPEG; the chosen default is the lowest quality whose mean SSIM reaches the JPEG's.

    .venv/bin/python bench/default_quality.py photo1.png photo2.jpg ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyvips

from pinhole.imaging.formats import AVIF, JPEG, WEBP, Format


def grey(image: pyvips.Image) -> np.ndarray:
    flat = image.flatten(background=[255, 255, 255]) if image.hasalpha() else image
    return np.asarray(flat.colourspace("b-w").extract_band(0).numpy(), dtype=np.float64)


def box_mean(a: np.ndarray, window: int) -> np.ndarray:
    summed = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    total = (
        summed[window:, window:] - summed[:-window, window:] - summed[window:, :-window] + summed[:-window, :-window]
    )
    return np.asarray(total / (window * window), dtype=np.float64)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = box_mean(a, window), box_mean(b, window)
    var_a, var_b = box_mean(a * a, window) - mu_a**2, box_mean(b * b, window) - mu_b**2
    cov = box_mean(a * b, window) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(score.mean())


def encode(image: pyvips.Image, fmt: Format, quality: int) -> bytes:
    options = dict(fmt.save_options)
    return bytes(pyvips.Operation.call(f"{fmt.saver}_buffer", image, keep="none", Q=quality, **options))


def measure(image: pyvips.Image, fmt: Format, quality: int) -> tuple[float, int]:
    data = encode(image, fmt, quality)
    return ssim(grey(image), grey(pyvips.Image.new_from_buffer(data, ""))), len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="+", type=Path)
    parser.add_argument(
        "--jpeg", type=int, default=JPEG.default_quality, help="The JPEG quality to match (pinhole's default)."
    )
    args = parser.parse_args()
    photos = [pyvips.Image.new_from_file(str(p)).colourspace("srgb").cast("uchar") for p in args.photos]
    photos = [p.extract_band(0, n=3) if p.bands > 3 else p for p in photos]
    reference = [measure(p, JPEG, args.jpeg) for p in photos]
    target = float(np.mean([s for s, _ in reference]))
    mean_size = np.mean([n for _, n in reference])
    print(f"{len(photos)} photos; JPEG q{args.jpeg}: mean SSIM {target:.4f}, mean {mean_size:.0f} B")
    print("| format | quality | mean SSIM | size vs JPEG |")
    print("|---|---|---|---|")
    for fmt, qualities in ((WEBP, range(70, 92, 2)), (AVIF, range(50, 82, 2))):
        chosen = None
        for quality in qualities:
            results = [measure(p, fmt, quality) for p in photos]
            score = float(np.mean([s for s, _ in results]))
            size = float(np.mean([n / ref[1] for (_, n), ref in zip(results, reference, strict=True)]))
            mark = ""
            if chosen is None and score >= target:
                chosen, mark = quality, " <- default"
            print(f"| {fmt.name} | {quality} | {score:.4f} | {size:.2f}x{mark} |")


if __name__ == "__main__":
    main()
