"""The render steps issue 15 added, on synthetic pictures whose content says whether a step did its job."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import pyvips

from pinhole.imaging.formats import Format, format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import Rendered, render
from tests.support.images import (
    assert_image,
    make_gif,
    make_jpeg,
    make_png,
    open_image,
    red_block_corner,
    similarity,
    to_array,
)
from tests.support.scenes import CORNERS, colour_share_in, object_share, scene_gif, scene_png


def _format(name: str) -> Format:
    found = format_named(name)
    assert found is not None
    return found


def _render(source: bytes, source_format: str, limits: OutputLimits, **raw: Any) -> Rendered:
    options = make_transform(limits=limits, **raw)
    return render(source, options=options, source_format=_format(source_format), limits=limits)


# Wide and tall sources, so each corner case crops along the axis that can lose the object.
SOURCES = {"wide": (400, 200), "tall": (200, 400)}


def _fp(corner: str, size: tuple[int, int]) -> str:
    """The object's centre as fractions, given the scene's layout (a fifth of the shorter side, in a corner)."""
    side = min(size) // 5
    fx, fy = CORNERS[corner]
    x = ((size[0] - side) * fx + side / 2) / size[0]
    y = ((size[1] - side) * fy + side / 2) / size[1]
    return f"{x:.3f},{y:.3f}"


@pytest.mark.parametrize("shape", SOURCES)
@pytest.mark.parametrize("corner", CORNERS)
@pytest.mark.parametrize("how", ["smart", "entropy", "fp"])
def test_cover_crop_keeps_the_salient_object(output_limits: OutputLimits, shape: str, corner: str, how: str) -> None:
    size = SOURCES[shape]
    source = scene_png(*size, at=CORNERS[corner])
    where = {"fp": _fp(corner, size)} if how == "fp" else {"gravity": how}
    rendered = _render(source, "png", output_limits, width=100, height=100, fit="cover", **where)
    assert_image(rendered.data, format="png", width=100, height=100)
    assert object_share(rendered.data) > 0.03  # the object (a tenth of the side, squared: 0.04) is all there
    centre = _render(source, "png", output_limits, width=100, height=100, fit="cover")
    assert object_share(centre.data) < 0.01  # the default (centre) crop would have lost it


@pytest.mark.parametrize(
    ("gravity", "kept"),
    [("e", True), ("ne", True), ("se", True), ("w", False), ("nw", False), ("centre", False), ("n", False)],
)
def test_compass_gravity_picks_the_side(output_limits: OutputLimits, gravity: str, kept: bool) -> None:
    source = scene_png(400, 200, at=(1.0, 0.5))
    rendered = _render(source, "png", output_limits, width=100, height=100, fit="cover", gravity=gravity)
    assert (object_share(rendered.data) > 0.03) is kept


def test_smart_crop_of_an_animation_keeps_the_object_in_every_frame(output_limits: OutputLimits) -> None:
    source = scene_gif(400, 200, at=(1.0, 1.0))
    rendered = _render(source, "gif", output_limits, width=100, height=100, fit="cover", gravity="smart")
    assert_image(rendered.data, format="gif", width=100, height=100, frames=3)
    frames = open_image(rendered.data, all_frames=True)
    for index in range(3):
        frame = bytes(frames.crop(0, index * 100, 100, 100).pngsave_buffer())
        assert object_share(frame) > 0.03


def test_pad_letterboxes_on_the_background(output_limits: OutputLimits) -> None:
    source = scene_png(200, 100, at=(0.5, 0.5))
    rendered = _render(source, "png", output_limits, width=100, height=100, fit="pad", bg="0000ff")
    assert_image(rendered.data, format="png", width=100, height=100)
    assert colour_share_in(rendered.data, (0, 0, 255), (0, 0, 1, 0.24)) > 0.95  # top band
    assert colour_share_in(rendered.data, (0, 0, 255), (0, 0.76, 1, 1)) > 0.95  # bottom band
    assert colour_share_in(rendered.data, (0, 0, 255), (0, 0.3, 1, 0.7)) < 0.05  # the picture
    north = _render(
        source, "png", output_limits, width=100, height=100, fit="pad", bg="0000ff", gravity="n", format="jpeg"
    )
    assert colour_share_in(north.data, (0, 0, 255), (0, 0, 1, 0.45)) < 0.05
    assert colour_share_in(north.data, (0, 0, 255), (0, 0.55, 1, 1)) > 0.9


def test_pad_keeps_its_canvas_without_enlarging_the_picture(output_limits: OutputLimits) -> None:
    rendered = _render(scene_png(80, 40, at=(0.5, 0.5)), "png", output_limits, width=200, height=200, fit="pad")
    assert_image(rendered.data, format="png", width=200, height=200)
    assert colour_share_in(rendered.data, (255, 255, 255), (0, 0, 1, 0.35)) > 0.95  # white, the default


def test_pad_with_a_transparent_background_keeps_alpha(output_limits: OutputLimits) -> None:
    rendered = _render(make_jpeg(200, 100), "jpeg", output_limits, width=100, height=100, fit="pad", bg="00000000")
    image = assert_image(rendered.data, format="jpeg", width=100, height=100)
    webp = _render(
        make_jpeg(200, 100), "jpeg", output_limits, width=100, height=100, fit="pad", bg="00000000", format="png"
    )
    image = open_image(webp.data)
    assert image.hasalpha()
    assert image.extract_band(3).crop(0, 0, 100, 10).max() == 0
    assert image.extract_band(3).crop(0, 45, 100, 10).min() == 255


@pytest.mark.parametrize(
    ("raw", "size"), [({"width": 100, "height": 100}, (200, 100)), ({"width": 50, "height": 10}, (50, 25))]
)
def test_outside_covers_without_cropping(
    output_limits: OutputLimits, raw: dict[str, Any], size: tuple[int, int]
) -> None:
    rendered = _render(make_jpeg(400, 200), "jpeg", output_limits, fit="outside", **raw)
    assert_image(rendered.data, format="jpeg", width=size[0], height=size[1])
    whole = bytes(open_image(make_jpeg(400, 200)).pngsave_buffer())
    assert similarity(whole, rendered.data) > 0.9


@pytest.mark.parametrize("crop", ["300,100,100,100", "0.75,0.5,0.25,0.5"])
def test_crop_region_comes_before_resizing(output_limits: OutputLimits, crop: str) -> None:
    source = scene_png(400, 200, at=(1.0, 1.0), side=100)  # the object: x 300-400, y 100-200
    rendered = _render(source, "png", output_limits, crop=crop, width=50)
    assert_image(rendered.data, format="png", width=50, height=50)
    assert object_share(rendered.data) > 0.9


def test_crop_region_outside_the_image_is_refused(output_limits: OutputLimits) -> None:
    from pinhole.errors import InvalidTransform

    with pytest.raises(InvalidTransform) as caught:
        _render(make_jpeg(100, 100), "jpeg", output_limits, crop="200,200,10,10")
    assert caught.value.field == "crop"


@pytest.mark.parametrize(("raw", "width"), [({"width": 50, "dpr": "2"}, 100), ({"width": 100, "dpr": "4"}, 320)])
def test_dpr_multiplies_but_never_enlarges(output_limits: OutputLimits, raw: dict[str, Any], width: int) -> None:
    rendered = _render(make_jpeg(320, 240), "jpeg", output_limits, **raw)
    assert rendered.width == width


@pytest.mark.parametrize(
    ("raw", "size", "corner"),
    [
        ({"rotate": "90"}, (48, 64), "top-right"),
        ({"rotate": "180"}, (64, 48), "bottom-right"),
        ({"rotate": "270"}, (48, 64), "bottom-left"),
        ({"flip": True}, (64, 48), "bottom-left"),
        ({"flop": True}, (64, 48), "top-right"),
        ({"flip": True, "flop": True}, (64, 48), "bottom-right"),
    ],
)
def test_rotate_and_flip(output_limits: OutputLimits, raw: dict[str, Any], size: tuple[int, int], corner: str) -> None:
    rendered = _render(make_jpeg(64, 48), "jpeg", output_limits, **raw)
    assert (rendered.width, rendered.height) == size
    assert red_block_corner(rendered.data) == corner


def test_sizes_are_those_of_the_rotated_output(output_limits: OutputLimits) -> None:
    rendered = _render(make_jpeg(320, 240), "jpeg", output_limits, rotate="90", width=120, height=160, fit="cover")
    assert (rendered.width, rendered.height) == (120, 160)


def test_focal_point_follows_rotation(output_limits: OutputLimits) -> None:
    source = scene_png(400, 200, at=(1.0, 0.0))  # object top-right; turned 90 degrees it is bottom-right
    fp = _fp("top-right", (400, 200))
    rendered = _render(source, "png", output_limits, rotate="90", width=100, height=100, fit="cover", fp=fp)
    assert object_share(rendered.data) > 0.03


def _edge_energy(data: bytes) -> float:
    grey = to_array(data).astype(np.float64).mean(axis=-1)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_blur_softens_and_sharpen_crisps(output_limits: OutputLimits) -> None:
    source = make_png(200, 150)
    plain = _render(source, "png", output_limits)
    blurred = _render(source, "png", output_limits, blur="3")
    sharpened = _render(source, "png", output_limits, sharpen="2")
    assert _edge_energy(blurred.data) < 0.6 * _edge_energy(plain.data)
    assert _edge_energy(sharpened.data) > 1.05 * _edge_energy(plain.data)
    assert similarity(plain.data, blurred.data) > 0.5  # still the same picture


def test_grayscale(output_limits: OutputLimits) -> None:
    rendered = _render(make_jpeg(120, 90), "jpeg", output_limits, grayscale=True, format="png")
    pixels = to_array(rendered.data).astype(np.int32)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() <= 1
    assert np.abs(pixels[..., 1] - pixels[..., 2]).max() <= 1
    assert pixels.std() > 10


def test_bg_flattens_alpha(output_limits: OutputLimits) -> None:
    source = make_png(90, 60, alpha=True)  # the left third is fully transparent
    rendered = _render(source, "png", output_limits, format="jpeg", bg="ff0000")
    assert colour_share_in(rendered.data, (255, 0, 0), (0, 0, 0.3, 1)) > 0.95
    kept = _render(source, "png", output_limits, format="png", bg="ff0000")
    assert colour_share_in(kept.data, (255, 0, 0), (0, 0, 0.3, 1)) > 0.95  # an opaque bg flattens any output
    transparent = _render(source, "png", output_limits, format="png")
    assert open_image(transparent.data).hasalpha()


@pytest.mark.parametrize(
    "raw",
    [
        {"rotate": "90"},
        {"flip": True},
        {"blur": "1"},
        {"sharpen": "1"},
        {"grayscale": True},
        {"crop": "0.1,0.1,0.8,0.8"},
        {"width": 40, "height": 40, "fit": "pad", "bg": "00ff00"},
        {"width": 40, "height": 40, "fit": "cover", "gravity": "se"},
        {"width": 40, "height": 40, "fit": "cover", "gravity": "entropy"},
        {"width": 40, "height": 40, "fit": "cover", "fp": "0.2,0.8"},
        {"width": 40, "height": 40, "fit": "outside"},
        {"width": 30, "dpr": "2"},
    ],
)
def test_animations_survive_every_option(output_limits: OutputLimits, raw: dict[str, Any]) -> None:
    rendered = _render(make_gif(80, 60, frames=4), "gif", output_limits, **raw)
    assert rendered.frames == 4
    assert_image(rendered.data, format="gif", width=rendered.width, height=rendered.height, frames=4)
    assert open_image(rendered.data, all_frames=True).get("page-height") == rendered.height


def _mark() -> bytes:
    """A solid magenta square: easy to find, in no other picture here."""
    return bytes(pyvips.Image.black(64, 64).new_from_image([255, 0, 255]).cast("uchar").pngsave_buffer())


@pytest.mark.parametrize(
    ("gravity", "box"),
    [
        ("se", (0.6, 0.6, 1.0, 1.0)),
        ("nw", (0.0, 0.0, 0.4, 0.4)),
        ("ne", (0.6, 0.0, 1.0, 0.4)),
        ("centre", (0.3, 0.3, 0.7, 0.7)),
    ],
)
def test_watermark_is_found_where_it_was_placed(
    output_limits: OutputLimits, gravity: str, box: tuple[float, float, float, float]
) -> None:
    options = make_transform(
        width=200, wm="logo", wm_gravity=gravity, wm_opacity="1", wm_scale="0.2", wm_margin="10", limits=output_limits
    )
    rendered = render(
        make_jpeg(400, 300), options=options, source_format=_format("jpeg"), mark=_mark(), limits=output_limits
    )
    assert_image(rendered.data, format="jpeg", width=200, height=150)
    magenta = (255, 0, 255)
    assert colour_share_in(rendered.data, magenta, box) > 0.1  # 40x40 of mark in the part of the picture named
    assert colour_share_in(rendered.data, magenta, (0, 0, 1, 1)) < 0.07  # and nowhere else: 1600 of 30000 pixels


def test_watermark_opacity_blends(output_limits: OutputLimits) -> None:
    options = make_transform(width=200, wm="logo", wm_opacity="0.5", wm_scale="0.3", limits=output_limits)
    source = bytes(pyvips.Image.black(400, 300).new_from_image([0, 0, 0]).cast("uchar").pngsave_buffer())
    rendered = render(source, options=options, source_format=_format("png"), mark=_mark(), limits=output_limits)
    # Half-transparent magenta over black: about (128, 0, 128), found bottom-right (the default gravity).
    assert colour_share_in(rendered.data, (128, 0, 128), (0.6, 0.6, 1.0, 1.0)) > 0.1
    assert colour_share_in(rendered.data, (255, 0, 255), (0, 0, 1, 1)) == 0


def test_watermark_keeps_animation_and_alpha(output_limits: OutputLimits) -> None:
    options = make_transform(wm="logo", limits=output_limits)
    rendered = render(make_gif(80, 60, frames=4), options=options, source_format=_format("gif"), mark=_mark())
    assert rendered.frames == 4
    png = render(make_png(80, 60, alpha=True), options=options, source_format=_format("png"), mark=_mark())
    assert open_image(png.data).hasalpha()
