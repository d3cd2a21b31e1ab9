"""Small variants of a large original rendered from its 2048-px intermediate: same sizes, same picture."""

from __future__ import annotations

from typing import Any

import pytest

from pinhole.imaging import intermediate
from pinhole.imaging.formats import Format, format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import make_intermediate, render
from tests.support.images import make_gif, make_jpeg, make_png, open_image, red_block_corner, similarity

LARGE = make_jpeg(3200, 2400, orientation=6, exif=True)  # stored turned, with EXIF orientation 6


def _format(name: str) -> Format:
    found = format_named(name)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def made() -> bytes:
    result = make_intermediate(LARGE, source_format=_format("jpeg"))
    assert result is not None
    return result[0]


def test_the_intermediate_is_upright_srgb_and_2048_on_its_long_side(made: bytes) -> None:
    image = open_image(made)
    assert (image.width, image.height) == (2048, 1536)
    assert image.interpretation == "srgb"
    assert red_block_corner(made) == "top-left"


@pytest.mark.parametrize(
    "source",
    [make_jpeg(1600, 1200), make_png(3200, 2400, alpha=True), make_gif(3200, 2400, frames=2)],
    ids=["small", "alpha", "animated"],
)
def test_no_intermediate_where_it_would_not_help(source: bytes) -> None:
    fmt = {b"\xff\xd8": "jpeg", b"\x89P": "png", b"GI": "gif"}[source[:2]]
    assert make_intermediate(source, source_format=_format(fmt)) is None


@pytest.mark.parametrize(
    "raw",
    [
        {"width": 800},
        {"height": 500},
        {"width": 300, "height": 300, "fit": "cover"},
        {"width": 640, "height": 200, "fit": "fill"},
        {"width": 1000, "format": "webp"},
    ],
)
def test_small_outputs_from_the_intermediate_match_those_from_the_original(
    made: bytes, output_limits: OutputLimits, raw: dict[str, Any]
) -> None:
    options = make_transform(limits=output_limits, **raw)
    direct = render(LARGE, options=options, source_format=_format("jpeg"), limits=output_limits)
    via = render(LARGE, options=options, source_format=_format("jpeg"), limits=output_limits, intermediate=made)
    assert (via.width, via.height, via.format) == (direct.width, direct.height, direct.format)
    assert via.data != direct.data  # it did start from the intermediate
    assert similarity(direct.data, via.data) > 0.95
    assert red_block_corner(via.data) == red_block_corner(direct.data)


def test_large_outputs_still_start_from_the_original(made: bytes, output_limits: OutputLimits) -> None:
    options = make_transform(limits=output_limits, width=intermediate.MAX_OUTPUT_EDGE + 1)
    direct = render(LARGE, options=options, source_format=_format("jpeg"), limits=output_limits)
    via = render(LARGE, options=options, source_format=_format("jpeg"), limits=output_limits, intermediate=made)
    assert via.data == direct.data
