from __future__ import annotations

from typing import Any

import pytest

from pinhole.errors import InvalidTransform
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"width": 0}, "width"),
        ({"width": -5}, "width"),
        ({"width": 2001}, "width"),
        ({"height": 0}, "height"),
        ({"height": 2001}, "height"),
        ({"width": 2000, "height": 2000}, "width"),
        ({"quality": 0}, "quality"),
        ({"quality": 101}, "quality"),
        ({"format": "bmp"}, "format"),
        ({"format": "heic"}, "format"),
        ({"format": ""}, "format"),
        ({"fit": "stretch"}, "fit"),
        ({"width": 10, "fit": "contain"}, "fit"),
    ],
)
def test_invalid_options_name_their_field(output_limits: OutputLimits, raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidTransform) as caught:
        make_transform(limits=output_limits, **raw)
    assert caught.value.field == field
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"width": 800, "format": "jpg"}, {"width": 800, "format": "JPEG"}),
        ({"width": 800, "fit": "cover"}, {"width": 800}),
        ({"height": 300, "fit": "fill"}, {"height": 300, "fit": "inside"}),
        ({"format": "png", "quality": 40}, {"format": "png"}),
        ({"format": "gif", "quality": 40}, {"format": "gif", "quality": 90}),
        ({"enlarge": True}, {}),
        ({"width": 10, "height": 20}, {"width": 10, "height": 20, "fit": "inside"}),
    ],
)
def test_equivalent_requests_share_a_canonical_string(
    output_limits: OutputLimits, first: dict[str, Any], second: dict[str, Any]
) -> None:
    one, other = make_transform(limits=output_limits, **first), make_transform(limits=output_limits, **second)
    assert one == other
    assert one.canonical() == other.canonical()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"width": 800}, {"height": 800}),
        ({"width": 10, "height": 20, "fit": "cover"}, {"width": 10, "height": 20, "fit": "fill"}),
        ({"width": 10}, {"width": 10, "enlarge": True}),
        ({"format": "webp", "quality": 50}, {"format": "webp"}),
        ({"format": "webp"}, {}),
    ],
)
def test_different_requests_differ(output_limits: OutputLimits, first: dict[str, Any], second: dict[str, Any]) -> None:
    assert (
        make_transform(limits=output_limits, **first).canonical()
        != make_transform(limits=output_limits, **second).canonical()
    )


def test_canonical_string_shape(output_limits: OutputLimits) -> None:
    options = make_transform(width=800, format="webp", limits=output_limits)
    assert options.canonical() == "w800-h0-inside-q0-webp-e0"
    cover = make_transform(
        width=80, height=60, fit="cover", quality=70, format="jpg", enlarge=True, limits=output_limits
    )
    assert cover.canonical() == "w80-h60-cover-q70-jpeg-e1"


def test_identity(output_limits: OutputLimits) -> None:
    assert make_transform(limits=output_limits).is_identity
    assert make_transform(enlarge=True, fit="cover", limits=output_limits).is_identity
    assert TransformOptions().canonical() == "w0-h0-inside-q0-auto-e0"
    for raw in ({"width": 1}, {"quality": 50}, {"format": "png"}):
        assert not make_transform(limits=output_limits, **raw).is_identity


def test_options_are_frozen(output_limits: OutputLimits) -> None:
    options = make_transform(width=10, limits=output_limits)
    with pytest.raises(AttributeError):
        options.width = 20  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"width": 10, "dpr": "0.5"}, "dpr"),
        ({"width": 10, "dpr": "5"}, "dpr"),
        ({"width": 10, "dpr": "two"}, "dpr"),
        ({"width": 1500, "dpr": "2"}, "dpr"),
        ({"crop": "1,2,3"}, "crop"),
        ({"crop": "0,0,0,10"}, "crop"),
        ({"crop": "0.5,0,0.6,1"}, "crop"),
        ({"crop": "-1,0,10,10"}, "crop"),
        ({"crop": "a,b,c,d"}, "crop"),
        ({"gravity": "up"}, "gravity"),
        ({"fp": "0.5"}, "fp"),
        ({"fp": "1.5,0.5"}, "fp"),
        ({"fp": "0.5,0.5", "gravity": "n"}, "fp"),
        ({"blur": "-1"}, "blur"),
        ({"blur": "1000"}, "blur"),
        ({"sharpen": "x"}, "sharpen"),
        ({"rotate": "45"}, "rotate"),
        ({"rotate": "ninety"}, "rotate"),
        ({"bg": "red"}, "bg"),
        ({"bg": "12345"}, "bg"),
        ({"format": "heic"}, "format"),
    ],
)
def test_invalid_new_options_name_their_field(output_limits: OutputLimits, raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidTransform) as caught:
        make_transform(limits=output_limits, **raw)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"width": 100, "dpr": "2"}, {"width": 200}),
        ({"dpr": "2"}, {}),
        ({"format": "auto"}, {}),
        ({"width": 10, "gravity": "smart"}, {"width": 10}),
        ({"width": 10, "height": 10, "gravity": "n"}, {"width": 10, "height": 10}),
        ({"width": 10, "height": 10, "fit": "fill", "fp": "0.2,0.2"}, {"width": 10, "height": 10, "fit": "fill"}),
        ({"width": 10, "height": 10, "fit": "pad", "gravity": "smart"}, {"width": 10, "height": 10, "fit": "pad"}),
        (
            {"width": 10, "height": 10, "fit": "cover", "gravity": "north"},
            {"width": 10, "height": 10, "fit": "cover", "gravity": "N"},
        ),
        (
            {"width": 10, "height": 10, "fit": "cover", "gravity": "attention"},
            {"width": 10, "height": 10, "fit": "cover", "gravity": "smart"},
        ),
        ({"flip": True, "flop": True}, {"rotate": "180"}),
        ({"flip": True, "flop": True, "rotate": "180"}, {}),
        ({"rotate": "-90"}, {"rotate": "270"}),
        ({"rotate": "360"}, {}),
        ({"bg": "FFFFFF"}, {}),
        ({"bg": "#ff0000ff"}, {"bg": "ff0000"}),
        ({"crop": "0.0,0.0,1.0,1.0"}, {}),
        ({"blur": "0"}, {}),
    ],
)
def test_equivalent_new_options_share_a_canonical_string(
    output_limits: OutputLimits, first: dict[str, Any], second: dict[str, Any]
) -> None:
    one, other = make_transform(limits=output_limits, **first), make_transform(limits=output_limits, **second)
    assert one == other
    assert one.canonical() == other.canonical()


def test_new_options_extend_the_canonical_string(output_limits: OutputLimits) -> None:
    options = make_transform(
        width=80,
        height=60,
        fit="cover",
        fp="0.25,0.75",
        crop="0.1,0,0.5,1",
        blur="1.5",
        sharpen="true",
        rotate="90",
        flip=True,
        grayscale=True,
        bg="00ff0080",
        limits=output_limits,
    )
    assert options.canonical() == "w80-h60-cover-q0-auto-e0-cf0.1,0,0.5,1-fp0.25,0.75-bl1.5-sh1-r90-fl-gr-bg00ff0080"
    assert not options.is_identity


def test_an_images_focal_point_places_default_cover_crops(output_limits: OutputLimits) -> None:
    cover = make_transform(width=10, height=10, fit="cover", limits=output_limits)
    placed = cover.for_image((0.2, 0.3))
    assert (placed.gravity, placed.focal) == ("fp", (0.2, 0.3))
    explicit = make_transform(width=10, height=10, fit="cover", gravity="centre", limits=output_limits)
    assert explicit.for_image((0.2, 0.3)) == cover  # the request said otherwise: the centre, one variant
    assert cover.for_image(None) == cover
    inside = make_transform(width=10, limits=output_limits)
    assert inside.for_image((0.2, 0.3)) == inside  # nothing to place
