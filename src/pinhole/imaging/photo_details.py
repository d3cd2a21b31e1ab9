"""Photo details read from an upload's EXIF before it is stripped: date taken, camera, lens, GPS position.

Only the header is read (libvips' lazy load for the formats it opens, Pillow's for HEIC/JPEG XL), never the
pixels; the EXIF block is parsed by Pillow's TIFF-structure reader. EXIF is whatever a file claims: every
value is bounded and checked, and a block that cannot be read gives no details rather than an error.
See docs/web.md (photo details).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from pinhole.imaging import pillow_codecs
from pinhole.imaging.formats import Format
from pinhole.imaging.loader import load_file

logger = logging.getLogger(__name__)

MAX_TEXT = 100
"""Longest camera or lens name kept (the database columns' size); longer values are cut."""
MAX_EXIF_BYTES = 1 << 20
"""A larger EXIF block is not parsed (JPEG's is at most 64 KB; a larger one in another container is not a camera's)."""

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _DATETIME = 0x010F, 0x0110, 0x0132
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
_LENS_MAKE, _LENS_MODEL = 0xA433, 0xA434
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

_DATE = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_EARLIEST_YEAR, _LATEST_YEAR = 1826, 2200  # the first photograph; anything after is a broken clock
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True, kw_only=True)
class PhotoDetails:
    """What the EXIF said, checked. `taken_at` is UTC when the photo records its offset, else the camera's clock."""

    taken_at: datetime | None = None
    camera: str | None = None
    lens: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def columns(self, *, keep_location: bool) -> dict[str, Any]:
        """The image row's columns; the position only when its owner chose to keep it."""
        located = keep_location and self.latitude is not None and self.longitude is not None
        return {
            "taken_at": self.taken_at,
            "camera": self.camera,
            "lens": self.lens,
            "latitude": self.latitude if located else None,
            "longitude": self.longitude if located else None,
        }


NO_DETAILS = PhotoDetails()


def read_photo_details(path: Path, *, format: Format) -> PhotoDetails:
    """The details in `path`'s EXIF (an already-validated image of `format`); none when it has no readable EXIF."""
    try:
        block = _exif_block(path, format)
        if not block or len(block) > MAX_EXIF_BYTES:
            return NO_DETAILS
        return _details(_parse(block))
    except Exception as error:  # EXIF is untrusted input to a parser with many failure modes: no details, no error
        logger.info("unreadable EXIF in a %s upload: %r", format.name, error)
        return NO_DETAILS


def _exif_block(path: Path, format: Format) -> bytes | None:
    if format.decoder == "pillow":
        return _pillow_exif(path, format)
    header = load_file(path, loader=format.loader)
    if "exif-data" in header.get_fields():
        return bytes(header.get("exif-data"))
    if format.name == "tiff":  # libvips keeps a TIFF's own tags out of exif-data: they are the file's IFD0
        return _tiff_exif(path)
    return None


def _pillow_exif(path: Path, format: Format) -> bytes | None:
    pillow_codecs.register()
    with Image.open(path, formats=[str(format.pillow_format)]) as image:
        block = image.info.get("exif")
    return bytes(block) if isinstance(block, (bytes, bytearray)) else None


def _tiff_exif(path: Path) -> bytes | None:
    with Image.open(path, formats=["TIFF"]) as image:
        return image.getexif().tobytes()


def _parse(block: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(block)  # skips a leading "Exif\0\0" (JPEG's APP1 and libvips' exif-data both carry it)
    return exif


def _details(exif: Image.Exif) -> PhotoDetails:
    sub = exif.get_ifd(_EXIF_IFD)
    gps = exif.get_ifd(_GPS_IFD)
    latitude = _coordinate(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), negative="S", limit=90)
    longitude = _coordinate(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), negative="W", limit=180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return PhotoDetails(
        taken_at=_taken_at(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), sub.get(_OFFSET_TIME_ORIGINAL)),
        camera=_joined(_text(exif.get(_MAKE)), _text(exif.get(_MODEL))),
        lens=_joined(_text(sub.get(_LENS_MAKE)), _text(sub.get(_LENS_MODEL))),
        latitude=latitude,
        longitude=longitude,
    )


def _text(value: object) -> str | None:
    """A printable, single-line, bounded string, or None (EXIF ASCII is often NUL-padded or binary junk)."""
    if isinstance(value, str):  # Pillow reads EXIF ASCII as Latin-1; cameras and tools often wrote UTF-8
        value = _utf8_or_latin1(value.encode("latin-1", errors="replace"))
    elif isinstance(value, bytes):
        value = _utf8_or_latin1(value)
    else:
        return None
    cleaned = " ".join(_CONTROL.sub(" ", value.replace("\ufffd", " ")).split())
    return cleaned[:MAX_TEXT].rstrip() or None


def _utf8_or_latin1(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _joined(make: str | None, model: str | None) -> str | None:
    """ "Canon" + "Canon EOS R5" is "Canon EOS R5"; "NIKON CORPORATION" + "NIKON D750" is "NIKON D750"."""
    if make is None or model is None:
        return model or make
    first = make.split()[0].lower()
    if model.lower().startswith(first):
        return model
    return f"{make} {model}"[:MAX_TEXT]


def _taken_at(value: object, offset: object) -> datetime | None:
    text = _text(value)
    found = _DATE.match(text) if text else None
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in found.groups())
    if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        return None
    try:
        taken = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 2024:02:30, 25:61:00...
        return None
    return taken - _offset(offset)


def _offset(value: object) -> timedelta:
    text = _text(value)
    found = _OFFSET.fullmatch(text) if text else None
    if found is None:
        return timedelta(0)
    sign, hours, minutes = found.groups()
    if int(hours) > 14 or int(minutes) > 59:
        return timedelta(0)
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def _coordinate(value: object, ref: object, *, negative: str, limit: int) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals; None when missing, not finite or out of range."""
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result) or not 0 <= result <= limit or minutes < 0 or seconds < 0:
        return None
    if _text(ref) == negative:
        result = -result
    return round(result, 7)
