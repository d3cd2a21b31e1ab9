"""The image formats pinhole knows, as data: names, mime types, capabilities, decoders and encoders.

`FORMATS` says what each format can do in principle; `available_formats()` says what this process
can actually read and write (probed once, at first use). Most formats go through libvips; those the
bundled libvips cannot read (HEIC, JPEG XL, BMP, animated PNG) go through Pillow and its plugins.
See docs/formats.md.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import pyvips

from pinhole.imaging import pillow_codecs

logger = logging.getLogger(__name__)

SaveOption = bool | int | str
Codec = Literal["vips", "pillow"]


@dataclass(frozen=True, kw_only=True)
class Format:
    """One image format and what pinhole can do with it."""

    name: str
    mime: str
    extension: str
    alpha: bool
    animation: bool
    quality: bool
    readable: bool
    writable: bool
    loader: str
    saver: str | None = None
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    heif_compression: str | None = None
    save_options: Mapping[str, SaveOption] = field(default_factory=dict, compare=False)
    web: bool = True
    """Browsers show it: a variant asked without a format keeps it; otherwise it becomes JPEG/PNG."""
    decoder: Codec = "vips"
    encoder: Codec = "vips"
    pillow_format: str | None = None
    """Pillow's name for the format, where Pillow decodes (or encodes) it."""
    default_quality: int = 82  # when neither the request nor `imaging.default_quality` gives one


def _options(**options: SaveOption) -> Mapping[str, SaveOption]:
    return MappingProxyType(options)


JPEG = Format(
    name="jpeg",
    mime="image/jpeg",
    extension="jpg",
    extensions=("jpg", "jpeg", "jpe", "jfif"),
    aliases=("jpg",),
    alpha=False,
    animation=False,
    quality=True,
    readable=True,
    writable=True,
    loader="jpegload",
    saver="jpegsave",
    # Quant table 2 (Robidoux's, in mozjpeg's list) at Q80: an 800-px photo is ~4% smaller than thumbor's (libjpeg
    # tables, Q80) at higher SSIM (0.908 vs 0.903); libjpeg's table at Q82 was 12% larger (bench/peers.py).
    save_options=_options(optimize_coding=True, interlace=True, quant_table=2),
    default_quality=80,
)
PNG = Format(
    name="png",
    mime="image/png",
    extension="png",
    alpha=True,
    animation=False,
    quality=False,
    readable=True,
    writable=True,
    loader="pngload",
    saver="pngsave",
    save_options=_options(compression=6),
)
WEBP = Format(
    name="webp",
    mime="image/webp",
    extension="webp",
    alpha=True,
    animation=True,
    quality=True,
    readable=True,
    writable=True,
    loader="webpload",
    saver="webpsave",
    save_options=_options(effort=4),
    default_quality=78,  # at 82, an 800-px photo was 22% larger than thumbor's WebP (Q80 via Pillow); at 78, 2%
)
GIF = Format(
    name="gif",
    mime="image/gif",
    extension="gif",
    alpha=True,
    animation=True,
    quality=False,
    readable=True,
    writable=True,
    loader="gifload",
    saver="gifsave",
)
AVIF = Format(
    name="avif",
    mime="image/avif",
    extension="avif",
    alpha=True,
    animation=False,
    quality=True,
    readable=True,
    writable=True,
    loader="heifload",
    saver="heifsave",
    heif_compression="av1",
    save_options=_options(compression="av1", effort=2),
    # The lowest whose mean SSIM reaches JPEG q80 (quant table 2) on six photos (bench/default_quality.py).
    default_quality=64,
)
HEIC = Format(
    name="heic",
    mime="image/heic",
    extension="heic",
    extensions=("heic", "heif"),
    aliases=("heif",),
    alpha=True,
    animation=False,
    quality=False,
    readable=True,
    writable=False,
    loader="heifload",
    heif_compression="hevc",
    web=False,
    # The bundled libheif has no HEVC decoder; pillow-heif's wheel ships one (libde265).
    decoder="pillow",
    pillow_format="HEIF",
)
APNG = Format(
    name="apng",
    mime="image/apng",
    extension="apng",
    alpha=True,
    animation=True,
    quality=False,
    readable=True,
    writable=True,
    loader="pngload",
    # libvips reads only an APNG's first frame and writes none: Pillow does both.
    decoder="pillow",
    encoder="pillow",
    pillow_format="PNG",
)
TIFF = Format(
    name="tiff",
    mime="image/tiff",
    extension="tiff",
    extensions=("tiff", "tif"),
    aliases=("tif",),
    alpha=True,
    animation=False,
    quality=False,
    readable=True,
    writable=True,
    loader="tiffload",
    saver="tiffsave",
    web=False,
    save_options=_options(compression="deflate"),
)
BMP = Format(
    name="bmp",
    mime="image/bmp",
    extension="bmp",
    extensions=("bmp", "dib"),
    alpha=True,
    animation=False,
    quality=False,
    readable=True,
    writable=False,
    loader="bmpload",
    web=False,
    decoder="pillow",
    pillow_format="BMP",
)
JXL = Format(
    name="jxl",
    mime="image/jxl",
    extension="jxl",
    alpha=True,
    animation=False,
    quality=False,
    readable=True,
    writable=False,
    loader="jxlload",
    web=False,
    decoder="pillow",
    pillow_format="JXL",
)

AVIF_SEQUENCE = replace(
    AVIF,
    animation=True,
    decoder="pillow",
    encoder="pillow",
    pillow_format="AVIF",
    save_options=_options(speed=8),
)
"""An animated AVIF (an image sequence, brand `avis`). The bundled libvips' libheif reads only a sequence's first
frame and writes several frames as a still collection (browsers show one), so Pillow's libavif reads and writes
these. Not in FORMATS: by name it is AVIF; `for_source` and `for_frames` pick it for a file or an output."""

FORMATS: tuple[Format, ...] = (JPEG, PNG, WEBP, GIF, AVIF, HEIC, APNG, TIFF, BMP, JXL)


def format_named(name: str) -> Format | None:
    """The format called `name` or one of its aliases (`jpg` -> jpeg), case-insensitively."""
    wanted = name.strip().lower()
    return next((fmt for fmt in FORMATS if wanted == fmt.name or wanted in fmt.aliases), None)


def format_for_extension(extension: str) -> Format | None:
    """The format a file extension (with or without its dot) conventionally names."""
    wanted = extension.strip().lower().removeprefix(".")
    return next((fmt for fmt in FORMATS if wanted in (fmt.extension, *fmt.extensions)), None)


def format_for_mime(mime: str) -> Format | None:
    wanted = mime.split(";")[0].strip().lower()
    return next((fmt for fmt in FORMATS if wanted == fmt.mime), None)


def format_for_loader(loader: str, *, heif_compression: str | None = None) -> Format | None:
    """The format behind a libvips loader name (`vips-loader`: `jpegload`, `jpegload_source`...).

    The HEIF loader reads both AVIF and HEIC, so it also needs the image's `heif-compression`.
    """
    base = loader.removesuffix("_source").removesuffix("_buffer")
    matches = (fmt for fmt in FORMATS if fmt.loader == base)  # png before apng: libvips reads no animation
    return next((fmt for fmt in matches if fmt.heif_compression in (None, heif_compression)), None)


def for_source(fmt: Format, head: bytes) -> Format:
    """The format that decodes a file whose leading bytes are `head`: an AVIF image sequence's where this is one
    (and Pillow here reads them), else `fmt` itself."""
    if fmt.name == AVIF.name and _is_sequence(head) and avif_sequences():
        return AVIF_SEQUENCE
    return fmt


def for_frames(fmt: Format, *, animated: bool) -> Format:
    """The format that writes an output of several frames: an AVIF sequence for AVIF (where Pillow writes them)."""
    if animated and fmt.name == AVIF.name and not fmt.animation and avif_sequences():
        return AVIF_SEQUENCE
    return fmt


@functools.cache
def avif_sequences() -> bool:
    """Pillow has libavif here (it reads and writes AVIF sequences)."""
    return pillow_codecs.can_read(AVIF_SEQUENCE) and pillow_codecs.can_write(AVIF_SEQUENCE)


def _is_sequence(head: bytes) -> bool:
    """An ISO-BMFF file whose `ftyp` box names the image-sequence brand `avis` (major or compatible)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box = head[8 : min(int.from_bytes(head[:4], "big"), len(head))]
    return box[:4] == b"avis" or any(box[index : index + 4] == b"avis" for index in range(8, len(box) - 3, 4))


@functools.cache
def available_formats() -> tuple[Format, ...]:
    """Every format with `readable`/`writable` narrowed to what this libvips can really do."""
    return tuple(
        replace(fmt, readable=fmt.readable and _can_read(fmt), writable=fmt.writable and _can_write(fmt))
        for fmt in FORMATS
    )


def readable_formats() -> frozenset[str]:
    return frozenset(fmt.name for fmt in available_formats() if fmt.readable)


def writable_formats() -> frozenset[str]:
    return frozenset(fmt.name for fmt in available_formats() if fmt.writable)


def _has_operation(name: str) -> bool:
    return bool(pyvips.type_find("VipsOperation", name))


def _can_write(fmt: Format) -> bool:
    if fmt.encoder == "pillow":
        return fmt.writable and pillow_codecs.can_write(fmt)
    if fmt.saver is None or not _has_operation(f"{fmt.saver}_buffer"):
        return False
    return fmt.heif_compression is None or _probe_heif(fmt) is not None


def _can_read(fmt: Format) -> bool:
    if fmt.decoder == "pillow":
        return pillow_codecs.can_read(fmt)
    if not _has_operation(fmt.loader):
        return False
    if fmt.heif_compression is None:
        return True
    # libheif decoders are plugins; only a round trip proves one is there. Without an encoder
    # for the same compression we cannot make a sample, so the format counts as unreadable.
    sample = _probe_heif(fmt)
    return sample is not None and _decodes(sample)


@functools.cache
def _probe_heif(fmt: Format) -> bytes | None:
    """A tiny image encoded with `fmt`'s HEIF compression, or None when libheif cannot encode it."""
    try:
        tiny = pyvips.Image.black(16, 16, bands=3).copy(interpretation="srgb")
        return bytes(tiny.heifsave_buffer(compression=fmt.heif_compression, effort=0))
    except pyvips.Error as error:
        logger.info("libvips cannot encode %s: %s", fmt.name, error)
        return None


def _decodes(sample: bytes) -> bool:
    try:
        pyvips.Image.new_from_buffer(sample, "").avg()
    except pyvips.Error as error:
        logger.info("libvips cannot decode a HEIF sample: %s", error)
        return False
    return True


def upload_accept() -> str:
    """An HTML `accept` attribute naming every readable format (mime types and extensions, for pickers that only
    know one of them, as some do for HEIC)."""
    readable = [fmt for fmt in available_formats() if fmt.readable]
    extensions = [f".{ext}" for fmt in readable for ext in dict.fromkeys((fmt.extension, *fmt.extensions))]
    return ",".join(dict.fromkeys([fmt.mime for fmt in readable] + extensions))
