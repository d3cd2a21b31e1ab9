"""Identify an uploaded file from its bytes and refuse it on its header alone, before any decoding.

The format comes from the magic bytes (never the file name); width, height and frame count come
from the header, so an image that claims 100000 x 100000 pixels is refused without decoding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyvips

from pinhole.errors import ImageTooLarge, TooManyFrames, UnsupportedImageFormat
from pinhole.imaging import pillow_codecs
from pinhole.imaging.containers import is_apng
from pinhole.imaging.formats import FORMATS, Format, for_source, format_for_loader, format_named, readable_formats
from pinhole.imaging.loader import load_file
from pinhole.imaging.orientation import orientation
from pinhole.imaging.signatures import HEAD_SIZE, sniff_format

_METADATA_BLOCKS = frozenset({"exif-data", "xmp-data", "iptc-data"})


@dataclass(frozen=True, kw_only=True)
class ImageLimits:
    """What a source image may hold: pixels across all its frames, and frames."""

    max_pixels: int
    max_frames: int


@dataclass(frozen=True, kw_only=True)
class InspectedImage:
    """What the header says. `width`/`height` are one frame as stored (before EXIF orientation)."""

    format: Format
    width: int
    height: int
    frames: int
    has_alpha: bool
    orientation: int
    has_metadata: bool

    @property
    def swaps_sides(self) -> bool:
        """EXIF orientations 5-8 turn the picture a quarter: it displays `height` wide."""
        return self.orientation >= 5

    @property
    def display_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.swaps_sides else (self.width, self.height)


def inspect_image(path: Path, *, limits: ImageLimits, accepted: frozenset[str] | None = None) -> InspectedImage:
    """Identify `path` and check it against `limits`, reading only its header.

    `accepted` narrows the formats taken (canonical names); None takes every readable format.
    Raises UnsupportedImageFormat, CorruptImage, TooManyFrames or ImageTooLarge.
    """
    allowed = readable_formats() & _canonical_names(accepted)
    candidate = _sniff(path, allowed)
    if candidate.decoder == "pillow":
        inspected = _describe_with_pillow(path, candidate)
    else:
        header = load_file(path, loader=candidate.loader)
        inspected = _describe(header, _identify(header, allowed))
    check_limits(inspected, limits=limits)
    return inspected


def check_limits(inspected: InspectedImage, *, limits: ImageLimits) -> None:
    """Frames first, then every frame's pixels together (what decoding would have to hold)."""
    if inspected.frames > limits.max_frames:
        raise TooManyFrames(
            f"The animation has {inspected.frames} frames; at most {limits.max_frames} are allowed.",
            details={"frames": inspected.frames, "max_frames": limits.max_frames},
        )
    pixels = inspected.width * inspected.height * inspected.frames
    if pixels > limits.max_pixels:
        raise ImageTooLarge(
            f"The image has {pixels} pixels; at most {limits.max_pixels} are allowed.",
            details={"pixels": pixels, "max_pixels": limits.max_pixels},
        )


def _canonical_names(accepted: frozenset[str] | None) -> frozenset[str]:
    if accepted is None:
        return frozenset(fmt.name for fmt in FORMATS)
    return frozenset(fmt.name for name in accepted if (fmt := format_named(name)) is not None)


def _refuse(allowed: frozenset[str]) -> UnsupportedImageFormat:
    names = ", ".join(sorted(allowed)) or "none"
    return UnsupportedImageFormat(
        f"This is not an image in an accepted format. Accepted formats: {names}.",
        details={"accepted": sorted(allowed)},
    )


def _sniff(path: Path, allowed: frozenset[str]) -> Format:
    with path.open("rb") as file:
        head = file.read(HEAD_SIZE)
    candidate = sniff_format(head)
    if candidate is not None and candidate.name == "png" and "apng" in allowed and is_apng(path.read_bytes()):
        candidate = format_named("apng")  # where only PNG is accepted, an APNG is taken as its first frame
    # The magic bytes pick the loader; `_identify` then checks what the loader found (AVIF and
    # HEIC share one, and only the header's compression tells them apart for certain).
    if candidate is None or candidate.name not in allowed:
        raise _refuse(allowed)
    return for_source(candidate, head)  # an AVIF image sequence is read by Pillow, every frame


def _identify(header: pyvips.Image, allowed: frozenset[str]) -> Format:
    found = format_for_loader(str(header.get("vips-loader")), heif_compression=_heif_compression(header))
    if found is None or found.name not in allowed:
        raise _refuse(allowed)
    return found


def _heif_compression(header: pyvips.Image) -> str | None:
    fields = header.get_fields()
    return str(header.get("heif-compression")) if "heif-compression" in fields else None


def _describe_with_pillow(path: Path, found: Format) -> InspectedImage:
    """Formats Pillow decodes come out upright (libheif applies `irot`/`imir`, libjxl its orientation)."""
    header = pillow_codecs.read_header(path, fmt=found)
    return InspectedImage(
        format=found,
        width=header.width,
        height=header.height,
        frames=header.frames,
        has_alpha=header.has_alpha,
        orientation=1,
        has_metadata=header.has_metadata,
    )


def _describe(header: pyvips.Image, found: Format) -> InspectedImage:
    fields = set(header.get_fields())
    return InspectedImage(
        format=found,
        width=int(header.width),
        height=int(header.height),
        frames=int(header.get("n-pages")) if found.animation and "n-pages" in fields else 1,
        has_alpha=bool(header.hasalpha()),
        orientation=orientation(header),
        has_metadata=bool(fields & _METADATA_BLOCKS) or any("comment" in name for name in fields),
    )
