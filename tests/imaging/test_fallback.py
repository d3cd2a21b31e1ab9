from __future__ import annotations

import numpy as np

from pinhole.imaging.fallback import fallback_webp
from tests.support.images import assert_image, to_array


def test_fallback_is_a_small_grey_webp_with_a_mark() -> None:
    data = fallback_webp()
    assert_image(data, format="webp", width=256, height=256)
    assert len(data) < 2048
    pixels = to_array(data)
    assert (pixels[..., 0] == pixels[..., 1]).all()  # neutral grey, no colour
    assert pixels[0, 0, 0] > 220  # light background
    assert pixels.min() < 200  # with a darker mark
    assert len(np.unique(pixels)) == 2  # and nothing else


def test_fallback_is_made_once() -> None:
    assert fallback_webp() is fallback_webp()
