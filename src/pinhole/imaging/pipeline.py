"""Render a variant from an original: a recipe of small named steps over libvips.

read the header -> pick the output format -> plan the box and check limits -> load with
shrink-on-load (orientation applied, sRGB) -> crop -> 8-bit sRGB -> flatten -> save.
Each step returns its input untouched when it does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pyvips

from pinhole.errors import ImageTooLarge, InvalidTransform
from pinhole.imaging import intermediate as intermediates
from pinhole.imaging import pillow_codecs
from pinhole.imaging.formats import Format, SaveOption, format_named, writable_formats
from pinhole.imaging.frames import frame_count, map_frames, page_height
from pinhole.imaging.geometry import Box, plan_box
from pinhole.imaging.loader import decode_error
from pinhole.imaging.options import OutputLimits, TransformOptions
from pinhole.imaging.orientation import autorotate, orientation
from pinhole.imaging.profiles import needs_srgb_conversion

WHITE = [255, 255, 255]


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """An encoded variant; `width`/`height` are one frame."""

    data: bytes
    format: Format
    width: int
    height: int
    frames: int = 1


def render(
    source: bytes,
    *,
    options: TransformOptions,
    source_format: Format,
    default_quality: int | None = None,
    limits: OutputLimits | None = None,
    intermediate: bytes | None = None,
) -> Rendered:
    """Resize/convert `source` (a stored original) as `options` asks; the output carries no metadata.

    Pass `limits` to refuse (ImageTooLarge) an output bigger than allowed: with `enlarge` and one
    side given, the other side depends on the source and only shows here. `intermediate` (imaging/intermediate.py,
    made from this `source`) is used instead of decoding `source` when the output is small enough.
    """
    try:
        header = read_header(source, format=source_format)
        target = pick_format(options, source_format=source_format, has_alpha=bool(header.hasalpha()))
        box = plan_box(options, source=display_size(header))
        check_output(box, limits=limits)
        animated = source_format.animation and target.animation
        if intermediate is not None and intermediates.serves(box):
            image = intermediates.load(intermediate, box=box)
        else:
            convert = needs_srgb_conversion(header)
            image = load(source, box=box, animated=animated, convert=convert, format=source_format, decoded=header)
        image = flatten(to_srgb(crop(image, box=box)), target=target)
        data = save(image, target=target, quality=options.quality or default_quality or target.default_quality)
    except pyvips.Error as error:
        raise decode_error(error, reason="render") from error
    return _rendered(data, image, target)


def read_header(source: bytes, *, format: Format) -> pyvips.Image:
    """The source's header, read by its own format's loader; no pixel is decoded.

    Formats Pillow decodes are decoded here, whole: `load` then works from these pixels.
    """
    if format.decoder == "pillow":
        return pillow_codecs.decode(source, fmt=format)
    return cast(pyvips.Image, pyvips.Operation.call(f"{format.loader}_buffer", source, access="sequential"))


def display_size(header: pyvips.Image) -> tuple[int, int]:
    """One frame's size as a viewer shows it (EXIF orientations 5-8 swap the sides)."""
    turned = orientation(header) >= 5
    width, height = int(header.width), page_height(header)
    return (height, width) if turned else (width, height)


def pick_format(options: TransformOptions, *, source_format: Format, has_alpha: bool) -> Format:
    """The asked format; else the source's when browsers show it and it is writable; else PNG for alpha, JPEG."""
    if options.format is not None:
        name = options.format
    elif source_format.web and source_format.name in writable_formats():
        name = source_format.name
    else:
        name = "png" if has_alpha else "jpeg"
    found = format_named(name)
    if found is None or found.name not in writable_formats():
        raise InvalidTransform(f"This server cannot write {name} images.", field="format")
    return found


def check_output(box: Box, *, limits: OutputLimits | None) -> None:
    if limits is None:
        return
    width, height = box.output
    if width > limits.max_width or height > limits.max_height or width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"The output would be {width}x{height}; at most {limits.max_width}x{limits.max_height} "
            f"and {limits.max_pixels} pixels are allowed.",
            details={"width": width, "height": height},
        )


def load(
    source: bytes,
    *,
    box: Box,
    animated: bool,
    convert: bool = True,
    format: Format | None = None,
    decoded: pyvips.Image | None = None,
) -> pyvips.Image:
    """Decode straight to the box size (shrink-on-load), orientation applied, in sRGB: through the colour profiles
    when `convert`, else as it is (untagged or sRGB-tagged 8-bit sources, see imaging/profiles.py).

    The source is opened by its own `format`'s loader, as at upload: libvips' own detection does not know every
    file the loader reads (an AVIF image sequence, say). `decoded` is the header, or Pillow's pixels.
    """
    colour = {"export_profile": "srgb"} if convert else {}
    if format is None or (format.decoder == "vips" and _detected_loader(source) == f"{format.loader}_buffer"):
        image = pyvips.Image.thumbnail_buffer(
            source,
            box.width,
            height=box.height,
            size=box.size,
            option_string="n=-1" if animated else "",
            **colour,
        )
        return cast(pyvips.Image, image)
    if format.decoder == "vips" or decoded is None:
        frames = {"n": -1} if animated else {}
        decoded = pyvips.Operation.call(f"{format.loader}_buffer", source, access="sequential", **frames)
    elif not animated and page_height(decoded) != decoded.height:
        decoded = decoded.crop(0, 0, decoded.width, page_height(decoded))
    return map_frames(
        autorotate(decoded),
        lambda frame: cast(pyvips.Image, frame.thumbnail_image(box.width, height=box.height, size=box.size, **colour)),
    )


def _pages(header: pyvips.Image) -> int:
    return int(header.get("n-pages")) if header.get_typeof("n-pages") else 1


def _explicitly_decoded(source: bytes, format: Format, header: pyvips.Image) -> pyvips.Image | None:
    """The first frame, upright, where libvips' detection would not open `source` (Pillow formats, AVIF
    sequences); None where `thumbnail_buffer` can take the bytes."""
    if format.decoder == "pillow":
        first = header.crop(0, 0, header.width, page_height(header)) if page_height(header) != header.height else header
        return autorotate(first)
    if _detected_loader(source) == f"{format.loader}_buffer":
        return None
    return autorotate(pyvips.Operation.call(f"{format.loader}_buffer", source, access="sequential"))


def _detected_loader(source: bytes) -> str | None:
    """The loader libvips' own detection picks for `source` (what `thumbnail_buffer` will use)."""
    pointer = pyvips.vips_lib.vips_foreign_find_load_buffer(source, len(source))
    return None if pointer == pyvips.ffi.NULL else str(pyvips.ffi.string(pointer).decode())


def crop(image: pyvips.Image, *, box: Box) -> pyvips.Image:
    """Cut the centre `box.crop` out of every frame (cover)."""
    if box.crop is None or (image.width, page_height(image)) == box.crop:
        return image
    width, height = box.crop
    left, top = (image.width - width) // 2, (page_height(image) - height) // 2
    return map_frames(image, lambda frame: cast(pyvips.Image, frame.crop(left, top, width, height)))


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB whatever came in (CMYK, 16-bit, greyscale)."""
    if image.interpretation == "srgb" and image.format == "uchar":
        return image
    return cast(pyvips.Image, image.colourspace("srgb").cast("uchar"))


def flatten(image: pyvips.Image, *, target: Format) -> pyvips.Image:
    """Put transparent pixels on white when the output format has no alpha (JPEG)."""
    if target.alpha or not image.hasalpha():
        return image
    return cast(pyvips.Image, image.flatten(background=WHITE))


def save(image: pyvips.Image, *, target: Format, quality: int) -> bytes:
    """Encode with the format's options and no metadata at all (the output is sRGB by definition)."""
    if target.encoder == "pillow":
        return pillow_codecs.encode(image, fmt=target)
    options: dict[str, SaveOption] = dict(target.save_options)
    if target.quality:
        options["Q"] = quality
    return bytes(pyvips.Operation.call(f"{target.saver}_buffer", image, keep="none", **options))


def _rendered(data: bytes, image: pyvips.Image, target: Format) -> Rendered:
    width, height = int(image.width), page_height(image)
    return Rendered(data=data, format=target, width=width, height=height, frames=frame_count(image))


def make_intermediate(source: bytes, *, source_format: Format) -> tuple[bytes, int, int] | None:
    """The intermediate of a large single-frame original (imaging/intermediate.py), or None where it would not help."""
    try:
        header = read_header(source, format=source_format)
        frames = frame_count(header) if source_format.decoder == "pillow" else _pages(header)
        if not intermediates.source_qualifies(header, display=display_size(header), frames=frames):
            return None
        colour = {"export_profile": "srgb"} if needs_srgb_conversion(header) else {}
        return intermediates.make(source, colour=colour, decoded=_explicitly_decoded(source, source_format, header))
    except pyvips.Error as error:
        raise decode_error(error, reason="render") from error
