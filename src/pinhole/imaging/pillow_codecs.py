"""Formats the bundled libvips cannot handle, through Pillow and its plugins (pillow-heif, pillow-jxl-plugin).

Pillow decodes to pixels that are handed to libvips as an in-memory image (ICC profile attached), so the rest of
the pipeline (resize, colour management, encoders) is the same for every format. See docs/formats.md.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyvips
from PIL import Image, ImageSequence, UnidentifiedImageError

from pinhole.errors import CorruptImage
from pinhole.imaging.frames import page_height

if TYPE_CHECKING:
    from pinhole.imaging.formats import Format

logger = logging.getLogger(__name__)

_DIRECT_MODES = {"L": "b-w", "LA": "b-w", "RGB": "srgb", "RGBA": "srgb", "CMYK": "cmyk"}
_SAMPLE_SIZE = 16


@functools.cache
def register() -> None:
    """Make Pillow know HEIF and JPEG XL (once). Limits are pinhole's to check, from the header, before decoding."""
    import pillow_heif
    import pillow_jxl  # noqa: F401 (importing registers the JPEG XL plugin)

    # HDR (10/12-bit) HEICs are decoded to 8 bits per channel: every variant is 8-bit (docs/formats.md, Bit depth).
    pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True, kw_only=True)
class PillowHeader:
    width: int
    height: int
    frames: int
    has_alpha: bool
    has_metadata: bool


def _open(source: Path | bytes, fmt: Format) -> Image.Image:
    register()
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return Image.open(stream, formats=[cast(str, fmt.pillow_format)])
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise _corrupt(error, reason="header") from error


def read_header(source: Path | bytes, *, fmt: Format) -> PillowHeader:
    """Size, frames, alpha and metadata from the header; no pixel is decoded."""
    with _open(source, fmt) as image:
        info = image.info
        return PillowHeader(
            width=image.width,
            height=image.height,
            frames=int(getattr(image, "n_frames", 1)) if fmt.animation else 1,
            has_alpha="A" in image.mode or "transparency" in info,
            has_metadata=any(info.get(key) for key in ("exif", "xmp", "XML:com.adobe.xmp")),
        )


def decode(source: Path | bytes, *, fmt: Format) -> pyvips.Image:
    """Every pixel (every frame of an animation, stacked `page-height` tall) as a libvips image in memory."""
    with _open(source, fmt) as image:
        try:
            frames: list[pyvips.Image] = []
            delays: list[int] = []
            for frame in ImageSequence.Iterator(image) if fmt.animation else [image]:
                frames.append(_to_vips(frame))  # the iterator seeks one image object: convert before moving on
                delays.append(int(frame.info.get("duration", 100)))
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise _corrupt(error, reason="decode") from error
        icc = image.info.get("icc_profile")
        loop = int(image.info.get("loop", 0))
    strip = frames[0] if len(frames) == 1 else pyvips.Image.arrayjoin(frames, across=1)
    strip = strip.copy()
    if icc:
        strip.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    if len(frames) > 1:
        strip.set_type(pyvips.GValue.gint_type, "page-height", int(frames[0].height))
        strip.set_type(pyvips.GValue.array_int_type, "delay", delays[: len(frames)])
        strip.set_type(pyvips.GValue.gint_type, "loop", loop)
    return strip


def _to_vips(frame: Image.Image) -> pyvips.Image:
    if frame.mode not in _DIRECT_MODES:
        has_alpha = "A" in frame.mode or "transparency" in frame.info
        frame = frame.convert("RGBA" if has_alpha else "RGB")
    bands = len(frame.getbands())
    image = pyvips.Image.new_from_memory(frame.tobytes(), frame.width, frame.height, bands, "uchar")
    return cast(pyvips.Image, image.copy(interpretation=_DIRECT_MODES[frame.mode]))


def encode(image: pyvips.Image, *, fmt: Format, quality: int | None = None) -> bytes:
    """Encode a libvips image (an animation strip included) with Pillow, keeping frames, delays and loop;
    `quality` for lossy formats (AVIF), with the format's own `save_options` (Pillow's names)."""
    height = page_height(image)
    frames = [_to_pillow(image.crop(0, top, image.width, height)) for top in range(0, image.height, height)]
    fields = image.get_fields()
    delays = list(image.get("delay")) if "delay" in fields else [100] * len(frames)
    buffer = io.BytesIO()
    options: dict[str, Any] = dict(fmt.save_options) | ({"quality": quality} if quality is not None else {})
    if len(frames) > 1:
        options |= {
            "save_all": True,
            "append_images": frames[1:],
            "duration": delays[: len(frames)],
            "loop": int(image.get("loop")) if "loop" in fields else 0,
        }
    frames[0].save(buffer, format=fmt.pillow_format, **options)
    return buffer.getvalue()


def _to_pillow(frame: pyvips.Image) -> Image.Image:
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[frame.bands]
    return Image.frombytes(mode, (frame.width, frame.height), frame.write_to_memory())


def _corrupt(error: Exception, *, reason: str) -> CorruptImage:
    logger.info("Pillow refused an image (%s): %s", reason, error)
    return CorruptImage("The image is damaged or incomplete and could not be decoded.", details={"reason": reason})


def can_read(fmt: Format) -> bool:
    """Pillow and the plugin are installed, and a sample written by them decodes."""
    sample = _sample(fmt)
    if sample is None:
        return False
    try:
        decoded = decode(sample, fmt=fmt)
    except CorruptImage:
        return False
    return (decoded.width, page_height(decoded)) == (_SAMPLE_SIZE, _SAMPLE_SIZE)


def can_write(fmt: Format) -> bool:
    return _sample(fmt) is not None


def sample(fmt: Format, *, size: tuple[int, int]) -> bytes | None:
    """A solid image of `size` written by Pillow in `fmt`, or None when this installation cannot write it."""
    return _sample(fmt, size)


@functools.cache
def _sample(fmt: Format, size: tuple[int, int] = (_SAMPLE_SIZE, _SAMPLE_SIZE)) -> bytes | None:
    try:
        register()
        buffer = io.BytesIO()
        Image.new("RGB", size, (200, 40, 40)).save(buffer, format=fmt.pillow_format)
    except (ImportError, OSError, KeyError, ValueError) as error:
        logger.info("Pillow cannot write a %s sample: %s", fmt.name, error)
        return None
    return buffer.getvalue()
