from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from pinhole.errors import ImageTooLarge
from pinhole.imaging.formats import Format, format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import Rendered, render
from tests.support.images import (
    assert_image,
    make_avif,
    make_cmyk_jpeg,
    make_gif,
    make_jpeg,
    make_png,
    make_webp,
    metadata_fields,
    open_image,
    red_block_corner,
    similarity,
    to_array,
)

PHOTO = make_jpeg(320, 240)


def _format(name: str) -> Format:
    found = format_named(name)
    assert found is not None
    return found


def _render(source: bytes, source_format: str, limits: OutputLimits, **raw: Any) -> Rendered:
    options = make_transform(limits=limits, **raw)
    return render(source, options=options, source_format=_format(source_format), limits=limits)


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ({"width": 160}, (160, 120)),
        ({"height": 60}, (80, 60)),
        ({"width": 100, "height": 100}, (100, 75)),
        ({"width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"width": 50, "height": 120, "fit": "cover"}, (50, 120)),
        ({"width": 100, "height": 30, "fit": "fill"}, (100, 30)),
        ({"width": 33, "height": 97, "fit": "fill"}, (33, 97)),
    ],
)
def test_fits_give_exact_sizes(output_limits: OutputLimits, raw: dict[str, Any], size: tuple[int, int]) -> None:
    rendered = _render(PHOTO, "jpeg", output_limits, **raw)
    assert (rendered.width, rendered.height) == size
    assert_image(rendered.data, format="jpeg", width=size[0], height=size[1])


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ({"width": 1000}, (320, 240)),
        ({"width": 1000, "height": 1000}, (320, 240)),
        ({"width": 1000, "height": 500, "fit": "cover"}, (320, 160)),
        ({"width": 640, "height": 960, "fit": "fill"}, (160, 240)),
        ({"width": 640, "enlarge": True}, (640, 480)),
        ({"width": 400, "height": 400, "fit": "cover", "enlarge": True}, (400, 400)),
    ],
)
def test_no_enlargement_unless_asked(output_limits: OutputLimits, raw: dict[str, Any], size: tuple[int, int]) -> None:
    """Without enlarge, a box bigger than the source shrinks (keeping its shape) until it fits."""
    rendered = _render(PHOTO, "jpeg", output_limits, **raw)
    assert (rendered.width, rendered.height) == size


def test_resize_looks_like_a_reference_resize(output_limits: OutputLimits) -> None:
    reference = bytes(open_image(PHOTO).resize(0.5).pngsave_buffer())
    rendered = _render(PHOTO, "jpeg", output_limits, width=160)
    assert similarity(reference, rendered.data) > 0.95
    flipped = bytes(open_image(reference).flipver().pngsave_buffer())
    assert similarity(flipped, rendered.data) < 0.7  # the measure can tell pictures apart


def test_cover_crops_the_centre(output_limits: OutputLimits) -> None:
    rendered = _render(PHOTO, "jpeg", output_limits, width=120, height=240, fit="cover")
    reference = bytes(open_image(PHOTO).crop(100, 0, 120, 240).pngsave_buffer())
    assert similarity(reference, rendered.data) > 0.95


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_when_the_original_kept_it(output_limits: OutputLimits, orientation: int) -> None:
    rendered = _render(make_jpeg(64, 48, orientation=orientation), "jpeg", output_limits, width=32)
    assert (rendered.width, rendered.height) == (32, 24)
    assert red_block_corner(rendered.data) == "top-left"


@pytest.mark.parametrize(
    ("source", "fmt", "raw"),
    [
        (make_jpeg(64, 48, icc=True), "jpeg", {"width": 32}),
        (make_png(64, 48, exif=True), "png", {"format": "webp"}),
        (make_webp(64, 48, exif=True, frames=2), "webp", {}),
        (make_jpeg(64, 48), "jpeg", {"format": "avif"}),
    ],
)
def test_output_carries_no_metadata(output_limits: OutputLimits, source: bytes, fmt: str, raw: dict[str, Any]) -> None:
    assert metadata_fields(_render(source, fmt, output_limits, **raw).data) == set()


@pytest.mark.parametrize("profile", [False, True], ids=["bare", "with-profile"])
def test_cmyk_becomes_srgb(output_limits: OutputLimits, profile: bool) -> None:
    reference = make_png(80, 60)
    rendered = _render(make_cmyk_jpeg(80, 60, profile=profile), "jpeg", output_limits, width=80)
    image = open_image(rendered.data)
    assert (image.interpretation, image.bands) == ("srgb", 3)
    assert similarity(reference, rendered.data) > 0.9
    assert np.abs(to_array(reference).mean(axis=(0, 1)) - to_array(rendered.data).mean(axis=(0, 1))).max() < 12


@pytest.mark.parametrize("target", ["png", "jpeg", "webp"])
def test_sixteen_bit_becomes_eight_bit_srgb(output_limits: OutputLimits, target: str) -> None:
    rendered = _render(make_png(80, 60, sixteen_bit=True), "png", output_limits, width=40, format=target)
    image = open_image(rendered.data)
    assert (image.format, image.interpretation) == ("uchar", "srgb")
    assert similarity(make_png(80, 60), rendered.data) > 0.9


@pytest.mark.parametrize("source", [make_png(90, 60, alpha=True), make_webp(90, 60, alpha=True)], ids=["png", "webp"])
def test_alpha_is_flattened_on_white_for_jpeg(output_limits: OutputLimits, source: bytes) -> None:
    rendered = _render(source, format_of_source(source), output_limits, format="jpeg")
    image = open_image(rendered.data)
    assert (image.bands, rendered.format.name) == (3, "jpeg")
    transparent_third = to_array(rendered.data)[5:-5, 2:25]
    assert transparent_third.min() > 240


def format_of_source(data: bytes) -> str:
    return "png" if data.startswith(b"\x89PNG") else "webp"


@pytest.mark.parametrize("source", [make_png(60, 40, alpha=True), make_webp(60, 40, alpha=True)], ids=["png", "webp"])
def test_alpha_is_kept_where_the_format_has_it(output_limits: OutputLimits, source: bytes) -> None:
    rendered = _render(source, format_of_source(source), output_limits, width=30)
    assert open_image(rendered.data).hasalpha()


@pytest.mark.parametrize(
    ("source", "fmt"), [(make_gif(60, 40, frames=4), "gif"), (make_webp(60, 40, frames=4), "webp")], ids=["gif", "webp"]
)
@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ({}, (60, 40)),
        ({"width": 30}, (30, 20)),
        ({"width": 20, "height": 20, "fit": "cover"}, (20, 20)),
        ({"width": 40, "height": 10, "fit": "fill"}, (40, 10)),
    ],
)
@pytest.mark.parametrize("target", ["gif", "webp"])
def test_animations_keep_every_frame(
    output_limits: OutputLimits, source: bytes, fmt: str, raw: dict[str, Any], size: tuple[int, int], target: str
) -> None:
    rendered = _render(source, fmt, output_limits, format=target, **raw)
    assert (rendered.width, rendered.height, rendered.frames) == (*size, 4)
    assert_image(rendered.data, format=target, width=size[0], height=size[1], frames=4)
    assert open_image(rendered.data, all_frames=True).get("page-height") == size[1]


def test_animation_to_a_still_format_takes_the_first_frame(output_limits: OutputLimits) -> None:
    rendered = _render(make_gif(60, 40, frames=4), "gif", output_limits, format="jpeg", width=30)
    assert (rendered.frames, rendered.height) == (1, 20)
    assert_image(rendered.data, format="jpeg", width=30, height=20, frames=1)


def test_avif_out(output_limits: OutputLimits) -> None:
    rendered = _render(PHOTO, "jpeg", output_limits, width=80, format="avif", quality=60)
    assert_image(rendered.data, format="avif", width=80, height=60)
    assert rendered.format.mime == "image/avif"
    assert similarity(PHOTO, rendered.data) > 0.9


def test_avif_in(output_limits: OutputLimits) -> None:
    rendered = _render(make_avif(80, 60), "avif", output_limits, width=40)
    assert_image(rendered.data, format="avif", width=40, height=30)


@pytest.mark.parametrize(("alpha", "expected"), [(False, "jpeg"), (True, "png")])
def test_unwritable_sources_fall_back_to_jpeg_or_png(output_limits: OutputLimits, alpha: bool, expected: str) -> None:
    """A HEIC original (readable, never written) is served as JPEG, or PNG when it has alpha."""
    source = make_png(40, 30, alpha=alpha)
    heic_like = replace(_format("png"), name="png-unwritable", writable=False)
    rendered = render(source, options=make_transform(limits=output_limits), source_format=heic_like)
    assert rendered.format.name == expected


@pytest.mark.parametrize("quality", [20, 95])
def test_quality_changes_the_size(output_limits: OutputLimits, quality: int) -> None:
    low = _render(PHOTO, "jpeg", output_limits, quality=20)
    chosen = _render(PHOTO, "jpeg", output_limits, quality=quality)
    assert len(chosen.data) >= len(low.data)
    default = render(
        PHOTO, options=make_transform(limits=output_limits), source_format=_format("jpeg"), default_quality=20
    )
    assert len(default.data) == len(low.data)


def test_output_limits_refuse_an_enlargement_that_only_the_source_makes_big(output_limits: OutputLimits) -> None:
    tall = make_png(4, 400)
    with pytest.raises(ImageTooLarge):
        _render(tall, "png", output_limits, width=100, enlarge=True)
