"""Colour management runs only where it changes something: sources with a non-sRGB profile or non-RGB pixels."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from pinhole.imaging.formats import format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import render
from pinhole.imaging.profiles import is_srgb_profile, needs_srgb_conversion
from tests.support.images import make_cmyk_jpeg, make_jpeg, make_png, marked_photo, to_array


def _srgb_tagged_jpeg() -> bytes:
    image = marked_photo(64, 48).icc_transform("srgb", input_profile="srgb")  # attaches libvips' sRGB profile
    return bytes(image.jpegsave_buffer(Q=90, keep="icc"))


def _header(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "", access="sequential")


def _profile(data: bytes) -> bytes:
    return bytes(_header(data).get("icc-profile-data"))


@pytest.mark.parametrize(
    ("source", "needed"),
    [
        (make_jpeg(64, 48, exif=False), False),
        (_srgb_tagged_jpeg(), False),
        (make_jpeg(64, 48, icc=True, exif=False), True),  # Display P3
        (make_cmyk_jpeg(64, 48), True),
        (make_cmyk_jpeg(64, 48, profile=True), True),
        (make_png(64, 48, sixteen_bit=True), True),
    ],
    ids=["untagged", "srgb-profile", "p3-profile", "cmyk", "cmyk-profile", "16-bit"],
)
def test_conversion_only_where_it_changes_something(source: bytes, needed: bool) -> None:
    assert needs_srgb_conversion(_header(source)) is needed


def test_profiles_are_told_apart_by_what_they_describe() -> None:
    assert is_srgb_profile(_profile(_srgb_tagged_jpeg()))
    assert not is_srgb_profile(_profile(make_jpeg(64, 48, icc=True, exif=False)))
    assert not is_srgb_profile(_profile(make_cmyk_jpeg(64, 48, profile=True)))
    assert not is_srgb_profile(b"not a profile")


def test_a_p3_source_is_still_converted(output_limits: OutputLimits) -> None:
    """The P3 file's raw pixels are less saturated than the picture; rendered, they match the sRGB original."""
    p3 = make_jpeg(64, 48, icc=True, exif=False)
    srgb = make_jpeg(64, 48, exif=False)
    options = make_transform(limits=output_limits, width=64)
    jpeg = format_named("jpeg")
    assert jpeg is not None
    rendered = render(p3, options=options, source_format=jpeg, limits=output_limits).data

    def colour(data: bytes) -> np.ndarray:
        mean: np.ndarray = to_array(data).astype(float).mean(axis=(0, 1))
        return mean

    raw_gap = np.abs(colour(p3) - colour(srgb)).max()
    rendered_gap = np.abs(colour(rendered) - colour(srgb)).max()
    assert raw_gap > 3 * rendered_gap, (raw_gap, rendered_gap)
