"""SSIM (Wang et al. 2004, Gaussian window sigma 1.5, K1 0.01, K2 0.03) of two same-size images, with libvips.

Computed on the luminance (Rec. 601 Y of the sRGB values), as most image-quality comparisons quote it;
1.0 means identical. The reference for a resized variant is the original resized with libvips' Lanczos3 in
floating point, never encoded, so both services' outputs are compared with the same ideal.
"""

from __future__ import annotations

from typing import cast

import pyvips

SIGMA = 1.5
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2


def luma(image: pyvips.Image) -> pyvips.Image:
    image = image.colourspace("srgb") if image.interpretation != "srgb" else image
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    r, g, b = image[0].cast("float"), image[1].cast("float"), image[2].cast("float")
    return cast(pyvips.Image, r * 0.299 + g * 0.587 + b * 0.114)


def _blur(image: pyvips.Image) -> pyvips.Image:
    return cast(pyvips.Image, image.gaussblur(SIGMA, precision="float"))


def ssim(a: pyvips.Image, b: pyvips.Image) -> float:
    """The mean SSIM of `a` against `b` (same size; the larger is cropped when they differ by a pixel)."""
    width, height = min(a.width, b.width), min(a.height, b.height)
    x, y = luma(a.crop(0, 0, width, height)), luma(b.crop(0, 0, width, height))
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx * mx
    syy = _blur(y * y) - my * my
    sxy = _blur(x * y) - mx * my
    numerator = (mx * my * 2 + C1) * (sxy * 2 + C2)
    denominator = (mx * mx + my * my + C1) * (sxx + syy + C2)
    return float((numerator / denominator).avg())


def reference(original: bytes, width: int) -> pyvips.Image:
    """`original` decoded in full and resized to `width` with Lanczos3, kept in float (no encoding)."""
    image = pyvips.Image.new_from_buffer(original, "", access="sequential").autorot()
    return cast(pyvips.Image, image.cast("float").resize(width / image.width, kernel="lanczos3").copy_memory())


def score(encoded: bytes, ideal: pyvips.Image) -> float:
    return ssim(pyvips.Image.new_from_buffer(encoded, ""), ideal)
