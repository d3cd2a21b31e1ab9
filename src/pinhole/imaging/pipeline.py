"""Render a variant from an original: a recipe of small named steps over libvips.

read the header -> pick the output format -> plan the geometry and check limits -> load with shrink-on-load
(orientation applied, sRGB) -> crop region -> rotate/flip -> cover window (gravity) -> 8-bit sRGB -> pad ->
effects (blur, sharpen, grayscale) -> watermark -> flatten -> save.
Each step returns its input untouched when it does not apply; animations go through frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pyvips

from pinhole.errors import ImageTooLarge, InvalidTransform
from pinhole.imaging import intermediate as intermediates
from pinhole.imaging import pillow_codecs, sources
from pinhole.imaging.formats import Format, SaveOption, for_frames, for_source, format_named, writable_formats
from pinhole.imaging.frames import frame_count, map_frames, page_height
from pinhole.imaging.geometry import Plan, around, place, plan
from pinhole.imaging.loader import decode_error
from pinhole.imaging.negotiation import WEB_SAFE
from pinhole.imaging.options import COMPASS, OutputLimits, TransformOptions, rgba
from pinhole.imaging.orientation import autorotate, orientation
from pinhole.imaging.profiles import needs_srgb_conversion

WHITE = [255, 255, 255]
_INTERESTING = {"sm": "attention", "en": "entropy"}
_TURNS = {90: "d90", 180: "d180", 270: "d270"}


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """An encoded variant; `width`/`height` are one frame."""

    data: bytes
    format: Format
    width: int
    height: int
    frames: int = 1


def render(
    source: sources.Source,
    *,
    options: TransformOptions,
    source_format: Format,
    default_quality: int | None = None,
    limits: OutputLimits | None = None,
    mark: bytes | None = None,
    intermediate: bytes | None = None,
) -> Rendered:
    """Transform `source` (a stored original) as `options` asks; the output carries no metadata.

    Without a quality in `options`: `default_quality` (`imaging.default_quality`) when set, else the output
    format's own (imaging/formats.py, the one table of defaults). Pass `limits` to refuse
    (ImageTooLarge) an output bigger than allowed: with `enlarge` and one side given, the other side depends on
    the source and only shows here. `mark` is the watermark's picture (any readable format) when
    `options.watermark` asks for one. `intermediate` (imaging/intermediate.py, made from this `source`) is used
    instead of decoding `source` when the output is small enough. `source` is the original's bytes or its file
    (imaging/sources.py: read in blocks, never held whole).
    """
    with sources.reading():
        return _render(
            source,
            options=options,
            source_format=source_format,
            default_quality=default_quality,
            limits=limits,
            mark=mark,
            intermediate=intermediate,
        )


def _render(
    source: sources.Source,
    *,
    options: TransformOptions,
    source_format: Format,
    default_quality: int | None,
    limits: OutputLimits | None,
    mark: bytes | None,
    intermediate: bytes | None,
) -> Rendered:
    try:
        source_format, source = _opened(source, source_format)
        header = read_header(source, format=source_format)
        target = pick_format(options, source_format=source_format, has_alpha=bool(header.hasalpha()))
        target = for_frames(target, animated=source_format.animation and _frames(header, source_format) > 1)
        geometry = plan(options, source=display_size(header))
        check_output(geometry, limits=limits)
        animated = source_format.animation and target.animation
        if intermediate is not None and intermediates.serves(geometry):
            image = intermediates.load(intermediate, geometry=geometry)
        else:
            convert = needs_srgb_conversion(header)
            image = load(
                source, size=geometry.load, animated=animated, convert=convert, format=source_format, decoded=header
            )
        image = turn(cut_region(image, geometry=geometry), options=options)
        image = to_srgb(cut_window(image, geometry=geometry, options=options, focal=_focal_pixels(options, geometry)))
        image = pad(image, geometry=geometry, options=options)
        image = grayscale(sharpen(blur(image, options=options), options=options), options=options)
        image = watermark(image, mark=mark, options=options)
        image = flatten(image, target=target, background=options.background)
        quality = options.quality or default_quality or target.default_quality
        data = save(image, target=target, quality=quality)
    except pyvips.Error as error:
        raise decode_error(error, reason="render") from error
    return _rendered(data, image, target)


def _opened(source: sources.Source, source_format: Format) -> tuple[Format, sources.Source]:
    """The format that decodes `source` (an AVIF sequence: every frame, through Pillow), and the source as that
    decoder reads it: Pillow takes bytes, libvips' loaders a file too."""
    source_format = for_source(source_format, sources.head(source))
    return source_format, (source if source_format.decoder == "vips" else sources.as_bytes(source))


def read_header(source: sources.Source, *, format: Format) -> pyvips.Image:
    """The source's header, read by its own format's loader; no pixel is decoded.

    Formats Pillow decodes are decoded here, whole: `load` then works from these pixels.
    """
    if format.decoder == "pillow":
        return pillow_codecs.decode(sources.as_bytes(source), fmt=format)
    # From a source over the bytes, not `_buffer`: pyvips copies a `bytes` argument into a new blob, which for a
    # 108 MP original was 19 MiB more at the peak of every render, for a header.
    stream = sources.vips_source(source)
    return cast(pyvips.Image, pyvips.Operation.call(f"{format.loader}_source", stream, access="sequential"))


def display_size(header: pyvips.Image) -> tuple[int, int]:
    """One frame's size as a viewer shows it (EXIF orientations 5-8 swap the sides)."""
    turned = orientation(header) >= 5
    width, height = int(header.width), page_height(header)
    return (height, width) if turned else (width, height)


def pick_format(options: TransformOptions, *, source_format: Format, has_alpha: bool) -> Format:
    """The asked format; else the source's when browsers show it and it is writable; else PNG for alpha, JPEG
    (also what the negotiated `web` choice means)."""
    if options.format is not None and options.format != WEB_SAFE:
        name = options.format
    elif options.format is None and source_format.web and source_format.name in writable_formats():
        name = source_format.name
    else:
        name = "png" if has_alpha else "jpeg"
    found = format_named(name)
    if found is None or found.name not in writable_formats():
        raise InvalidTransform(f"This server cannot write {name} images.", field="format")
    return found


def check_output(geometry: Plan, *, limits: OutputLimits | None) -> None:
    if limits is None:
        return
    width, height = geometry.output
    if width > limits.max_width or height > limits.max_height or width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"The output would be {width}x{height}; at most {limits.max_width}x{limits.max_height} "
            f"and {limits.max_pixels} pixels are allowed.",
            details={"width": width, "height": height},
        )


def load(
    source: sources.Source,
    *,
    size: tuple[int, int],
    animated: bool,
    convert: bool = True,
    format: Format | None = None,
    decoded: pyvips.Image | None = None,
) -> pyvips.Image:
    """Decode straight to exactly `size` (shrink-on-load), orientation applied, in sRGB: through the colour profiles
    when `convert`, else as it is (untagged or sRGB-tagged 8-bit sources, see imaging/profiles.py).

    The source is opened by its own `format`'s loader, as at upload: libvips' own detection does not know every
    file the loader reads (an AVIF image sequence, say). `decoded` is the header, or Pillow's pixels.
    """
    colour = {"export_profile": "srgb"} if convert else {}
    if format is None or (format.decoder == "vips" and _detected_as(source, format)):
        image = pyvips.Image.thumbnail_source(
            sources.vips_source(source),  # not `thumbnail_buffer`, which copies the bytes (see read_header)
            size[0],
            height=size[1],
            size="force",
            option_string="n=-1" if animated else "",
            **colour,
        )
        return cast(pyvips.Image, image)
    if format.decoder == "vips" or decoded is None:
        frames = {"n": -1} if animated else {}
        decoded = sources.load_with(format.loader, source, access="sequential", **frames)
    elif not animated and page_height(decoded) != decoded.height:
        decoded = decoded.crop(0, 0, decoded.width, page_height(decoded))
    return map_frames(
        autorotate(decoded),
        lambda frame: cast(pyvips.Image, frame.thumbnail_image(size[0], height=size[1], size="force", **colour)),
    )


def _frames(header: pyvips.Image, format: Format) -> int:
    return frame_count(header) if format.decoder == "pillow" else _pages(header)


def _pages(header: pyvips.Image) -> int:
    return int(header.get("n-pages")) if header.get_typeof("n-pages") else 1


def _explicitly_decoded(source: sources.Source, format: Format, header: pyvips.Image) -> pyvips.Image | None:
    """The first frame, upright, where libvips' detection would not open `source` (Pillow formats, AVIF
    sequences); None where `thumbnail_buffer` can take the bytes."""
    if format.decoder == "pillow":
        first = header.crop(0, 0, header.width, page_height(header)) if page_height(header) != header.height else header
        return autorotate(first)
    if _detected_as(source, format):
        return None
    return autorotate(sources.load_with(format.loader, source, access="sequential"))


def _detected_as(source: sources.Source, format: Format) -> bool:
    """libvips' own detection (what `thumbnail_buffer` uses) opens `source` with `format`'s loader.

    Detection names the loader's class (`VipsForeignLoadJpegBuffer`), the format its nickname (`jpegload`): both are
    compared as types. (Compared as strings they never matched, so every JPEG was decoded whole, without
    shrink-on-load: a 4000x3000 original to w=800 took ~2x the CPU, and its bytes differed from `thumbnail_buffer`'s.)
    """
    found = sources.detected_loader(source)
    wanted = pyvips.type_find("VipsOperation", sources.loader_operation(format.loader, source))
    return found is not None and wanted != 0 and pyvips.type_find("VipsOperation", found) == wanted


def cut_region(image: pyvips.Image, *, geometry: Plan) -> pyvips.Image:
    """Keep the requested region (`crop=x,y,w,h`) of every frame."""
    if geometry.region is None:
        return image
    left, top, width, height = geometry.region
    return map_frames(image, lambda frame: cast(pyvips.Image, frame.crop(left, top, width, height)))


def turn(image: pyvips.Image, *, options: TransformOptions) -> pyvips.Image:
    """Rotate clockwise by a right angle, then flip upside down / mirror, frame by frame."""
    if not (options.rotate or options.flip or options.flop):
        return image

    def step(frame: pyvips.Image) -> pyvips.Image:
        if options.rotate:
            frame = frame.rot(_TURNS[options.rotate])
        if options.flip:
            frame = frame.flipver()
        return cast(pyvips.Image, frame.fliphor() if options.flop else frame)

    return map_frames(image, step)


def cut_window(
    image: pyvips.Image, *, geometry: Plan, options: TransformOptions, focal: tuple[float, float] | None
) -> pyvips.Image:
    """Cut the cover window where gravity says: a compass point, the focal point, or the most interesting
    part (libvips attention or entropy). Every frame of an animation gets the same window."""
    if geometry.window is None:
        return image
    size = (int(image.width), page_height(image))
    window = (min(geometry.window[0], size[0]), min(geometry.window[1], size[1]))
    if window == size:
        return image
    gravity = options.gravity or "ce"
    if gravity in _INTERESTING:  # smartcrop reads its input more than once: decode the (scaled) image once
        image = image.copy_memory()
    if gravity in _INTERESTING and page_height(image) == image.height:
        return cast(pyvips.Image, image.smartcrop(window[0], window[1], interesting=_INTERESTING[gravity]))
    if gravity in _INTERESTING:
        focal = _interesting_point(image.crop(0, 0, size[0], size[1]), window, _INTERESTING[gravity])
    free = (size[0] - window[0], size[1] - window[1])
    left, top = around(focal, window, size) if focal is not None else place(free, COMPASS.get(gravity, COMPASS["ce"]))
    return map_frames(image, lambda frame: cast(pyvips.Image, frame.crop(left, top, window[0], window[1])))


def _interesting_point(frame: pyvips.Image, window: tuple[int, int], interesting: str) -> tuple[float, float]:
    """The point libvips' smartcrop centres on in one frame (used to crop every frame of an animation alike)."""
    _, found = frame.smartcrop(window[0], window[1], interesting=interesting, attention_x=True, attention_y=True)
    return float(found["attention_x"]), float(found["attention_y"])


def _focal_pixels(options: TransformOptions, geometry: Plan) -> tuple[float, float] | None:
    """The focal point (fractions of the displayed source) in the scaled, cut and turned image's pixels."""
    if options.gravity != "fp" or options.focal is None or geometry.window is None:
        return None
    x, y = options.focal[0] * geometry.load[0], options.focal[1] * geometry.load[1]
    left, top, width, height = geometry.region or (0, 0, *geometry.load)
    x, y = x - left, y - top
    if options.rotate == 90:
        x, y, width, height = height - y, x, height, width
    elif options.rotate == 180:
        x, y = width - x, height - y
    elif options.rotate == 270:
        x, y, width, height = y, width - x, height, width
    x, y = (x, height - y) if options.flip else (x, y)
    return (width - x, y) if options.flop else (x, y)


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB whatever came in (CMYK, 16-bit, greyscale)."""
    if image.interpretation == "srgb" and image.format == "uchar":
        return image
    return cast(pyvips.Image, image.colourspace("srgb").cast("uchar"))


def pad(image: pyvips.Image, *, geometry: Plan, options: TransformOptions) -> pyvips.Image:
    """Letterbox onto the exact canvas (`fit=pad`) in the `bg` colour, placed by compass gravity."""
    if geometry.canvas is None:
        return image
    colour = rgba(options.background)
    if colour[3] < 255 and not image.hasalpha():
        image = image.bandjoin_const([255])
    background = colour if image.hasalpha() else colour[:3]
    size = (int(image.width), page_height(image))
    canvas = geometry.canvas
    if size == canvas:
        return image
    free = (max(0, canvas[0] - size[0]), max(0, canvas[1] - size[1]))
    left, top = place(free, COMPASS.get(options.gravity or "ce", COMPASS["ce"]))
    return map_frames(
        image,
        lambda frame: cast(
            pyvips.Image, frame.embed(left, top, canvas[0], canvas[1], extend="background", background=background)
        ),
    )


def blur(image: pyvips.Image, *, options: TransformOptions) -> pyvips.Image:
    """Gaussian blur of `blur` sigma, each frame on its own (frames must not bleed into each other)."""
    if not options.blur:
        return image
    sigma = options.blur
    return map_frames(image, lambda frame: cast(pyvips.Image, frame.gaussblur(sigma).cast("uchar")))


def sharpen(image: pyvips.Image, *, options: TransformOptions) -> pyvips.Image:
    """Unsharp mask of `sharpen` sigma on the lightness, frame by frame."""
    if not options.sharpen:
        return image
    sigma = options.sharpen
    return map_frames(
        image, lambda frame: cast(pyvips.Image, frame.sharpen(sigma=sigma).colourspace("srgb").cast("uchar"))
    )


def grayscale(image: pyvips.Image, *, options: TransformOptions) -> pyvips.Image:
    """Grey pixels, still three sRGB bands (every output format takes them), alpha kept."""
    if not options.grayscale:
        return image
    return cast(pyvips.Image, image.colourspace("b-w").colourspace("srgb").cast("uchar"))


def watermark(image: pyvips.Image, *, mark: bytes | None, options: TransformOptions) -> pyvips.Image:
    """Draw the mark over every frame: `scale` of the output's width (never enlarged), `opacity`, placed by
    compass gravity `margin` pixels from the edges."""
    placement = options.watermark
    if placement is None or mark is None:
        return image
    size = (int(image.width), page_height(image))
    room = (max(1, size[0] - 2 * placement.margin), max(1, size[1] - 2 * placement.margin))
    width = max(1, min(room[0], round(size[0] * placement.scale)))
    drawn = pyvips.Image.thumbnail_buffer(mark, width, height=room[1], size="down", export_profile="srgb")
    drawn = to_srgb(drawn)
    if not drawn.hasalpha():
        drawn = drawn.bandjoin_const([255])
    drawn = drawn.extract_band(0, n=3).bandjoin(drawn.extract_band(3) * placement.opacity).cast("uchar").copy_memory()
    free = (max(0, room[0] - drawn.width), max(0, room[1] - drawn.height))
    left, top = place(free, COMPASS[placement.gravity])
    left, top = left + placement.margin, top + placement.margin
    opaque = not image.hasalpha()

    def step(frame: pyvips.Image) -> pyvips.Image:
        out = frame.composite2(drawn, "over", x=left, y=top).cast("uchar")
        return cast(pyvips.Image, out.extract_band(0, n=3) if opaque else out)

    return map_frames(image, step)


def flatten(image: pyvips.Image, *, target: Format, background: str | None = None) -> pyvips.Image:
    """Put transparent pixels on the background (white unless `bg` says) when the output format has no alpha,
    or when an opaque `bg` was asked for."""
    if not image.hasalpha():
        return image
    colour = rgba(background)
    if target.alpha and (background is None or colour[3] < 255):
        return image
    return cast(pyvips.Image, image.flatten(background=colour[:3]))


def save(image: pyvips.Image, *, target: Format, quality: int) -> bytes:
    """Encode with the format's options and no metadata at all (the output is sRGB by definition)."""
    if target.encoder == "pillow":
        return pillow_codecs.encode(image, fmt=target, quality=quality if target.quality else None)
    options: dict[str, SaveOption] = dict(target.save_options)
    if target.quality:
        options["Q"] = quality
    return bytes(pyvips.Operation.call(f"{target.saver}_buffer", image, keep="none", **options))


def _rendered(data: bytes, image: pyvips.Image, target: Format) -> Rendered:
    width, height = int(image.width), page_height(image)
    return Rendered(data=data, format=target, width=width, height=height, frames=frame_count(image))


def make_intermediate(source: sources.Source, *, source_format: Format) -> tuple[bytes, int, int] | None:
    """The intermediate of a large single-frame original (imaging/intermediate.py), or None where it would not help."""
    with sources.reading():
        return _make_intermediate(source, source_format=source_format)


def _make_intermediate(source: sources.Source, *, source_format: Format) -> tuple[bytes, int, int] | None:
    try:
        source_format, source = _opened(source, source_format)
        header = read_header(source, format=source_format)
        frames = _frames(header, source_format)
        if not intermediates.source_qualifies(header, display=display_size(header), frames=frames):
            return None
        colour = {"export_profile": "srgb"} if needs_srgb_conversion(header) else {}
        return intermediates.make(source, colour=colour, decoded=_explicitly_decoded(source, source_format, header))
    except pyvips.Error as error:
        raise decode_error(error, reason="render") from error
