"""A real round trip per format on this installation, for `pinhole doctor`: encode a sample, read it back through
the same code uploads and variants use, and write every output format from it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyvips

from pinhole.errors import PinholeError
from pinhole.imaging import pillow_codecs
from pinhole.imaging.formats import AVIF_SEQUENCE, Format, available_formats, avif_sequences, format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import render

_LIMITS = OutputLimits(max_width=64, max_height=64, max_pixels=4096)
SAMPLE_WIDTH, SAMPLE_HEIGHT = 24, 16


@dataclass(frozen=True, kw_only=True)
class FormatCheck:
    name: str
    mime: str
    decoder: str
    encoder: str
    web: bool
    input: bool
    """A sample in this format is read and resized as an upload's original would be."""
    output: bool
    """A variant in this format is written and reads back at the asked size."""


ANIMATED_AVIF = "avif-animated"
"""The row for AVIF image sequences (docs/formats.md): AVIF by name, through Pillow's libavif."""


@functools.cache
def check_formats() -> tuple[FormatCheck, ...]:
    return (*(_check(fmt) for fmt in available_formats()), _check_avif_sequences())


def _check_avif_sequences() -> FormatCheck:
    """An AVIF sequence is read with all its frames, and an animated GIF written as one keeps them."""
    possible = avif_sequences()
    return FormatCheck(
        name=ANIMATED_AVIF,
        mime=AVIF_SEQUENCE.mime,
        decoder=AVIF_SEQUENCE.decoder,
        encoder=AVIF_SEQUENCE.encoder,
        web=True,
        input=possible and _reads_animated(pillow_codecs.encode(_strip(), fmt=AVIF_SEQUENCE), AVIF_SEQUENCE),
        output=possible and _writes_animated(),
    )


def _strip(frames: int = 3) -> pyvips.Image:
    colours = ([200, 40, 40], [40, 200, 40], [40, 40, 200])
    images = [
        pyvips.Image.black(SAMPLE_WIDTH, SAMPLE_HEIGHT, bands=3).new_from_image(colours[i % 3]).cast("uchar")
        for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin(images, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", SAMPLE_HEIGHT)
    return strip


def _reads_animated(sample: bytes, fmt: Format, *, output: str | None = None) -> bool:
    try:
        rendered = render(sample, options=make_transform(width=12, format=output, limits=_LIMITS), source_format=fmt)
    except (PinholeError, pyvips.Error):
        return False
    return (rendered.width, rendered.height, rendered.frames) == (12, 8, 3)


def _writes_animated() -> bool:
    gif = format_named("gif")
    assert gif is not None
    sample = bytes(_strip().gifsave_buffer())
    try:
        written = render(sample, options=make_transform(width=12, format="avif", limits=_LIMITS), source_format=gif)
    except (PinholeError, pyvips.Error):
        return False
    return written.frames == 3 and _reads_animated(written.data, AVIF_SEQUENCE, output="avif")


def _check(fmt: Format) -> FormatCheck:
    return FormatCheck(
        name=fmt.name,
        mime=fmt.mime,
        decoder=fmt.decoder,
        encoder=fmt.encoder,
        web=fmt.web,
        input=fmt.readable and _reads(fmt),
        output=fmt.writable and _writes(fmt),
    )


def _sample(fmt: Format) -> bytes | None:
    image = pyvips.Image.black(SAMPLE_WIDTH, SAMPLE_HEIGHT, bands=3).new_from_image([200, 40, 40]).cast("uchar")
    image = image.copy(interpretation="srgb")
    if fmt.encoder == "pillow" or fmt.decoder == "pillow":
        return pillow_codecs.sample(fmt, size=(SAMPLE_WIDTH, SAMPLE_HEIGHT))
    if fmt.saver is None:
        return None
    options = {"compression": fmt.heif_compression, "effort": 0} if fmt.heif_compression else {}
    try:
        return bytes(pyvips.Operation.call(f"{fmt.saver}_buffer", image, **options))
    except pyvips.Error:
        return None


def _reads(fmt: Format) -> bool:
    sample = _sample(fmt)
    if sample is None:
        return False
    try:
        rendered = render(sample, options=make_transform(width=12, limits=_LIMITS), source_format=fmt)
    except (PinholeError, pyvips.Error):
        return False
    return (rendered.width, rendered.height) == (12, 8)


def _writes(fmt: Format) -> bool:
    jpeg = format_named("jpeg")
    assert jpeg is not None
    sample = _sample(jpeg)
    if sample is None:
        return False
    try:
        rendered = render(sample, options=make_transform(width=12, format=fmt.name, limits=_LIMITS), source_format=jpeg)
        back = render(rendered.data, options=make_transform(width=6, limits=_LIMITS), source_format=fmt)
    except (PinholeError, pyvips.Error):
        return False
    return (back.width, back.height) == (6, 4)
