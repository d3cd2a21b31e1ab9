"""Photos carrying a camera's EXIF (date taken, make, model, lens, GPS) in several containers, written by Pillow."""

from __future__ import annotations

from PIL import Image

from tests.support.pillow_images import encode, pillow_photo

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, LENS_MODEL = 0x9003, 0x9011, 0xA434
EIFFEL = (48.8584, 2.2945)  # N, E
CONTAINERS = {"jpeg": "JPEG", "heic": "HEIF", "webp": "WEBP", "png": "PNG", "tiff": "TIFF"}


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def camera_exif(
    *,
    taken: object = "2021:07:04 18:30:05",
    offset: object = None,
    make: object = "Canon",
    model: object = "Canon EOS R5",
    lens: object = "RF24-105mm F4 L IS USM",
    position: tuple[float, float] | None = EIFFEL,
) -> Image.Exif:
    """A camera's EXIF; a None value leaves its tag out, anything else is written as given (garbage included)."""
    exif = Image.Exif()
    for tag, value in ((MAKE, make), (MODEL, model)):
        if value is not None:
            exif[tag] = value
    sub = exif.get_ifd(EXIF_IFD)
    for tag, value in ((DATETIME_ORIGINAL, taken), (OFFSET_TIME_ORIGINAL, offset), (LENS_MODEL, lens)):
        if value is not None:
            sub[tag] = value
    if position is not None:
        gps = exif.get_ifd(GPS_IFD)
        latitude, longitude = position
        gps[1], gps[2] = ("N" if latitude >= 0 else "S"), _dms(latitude)
        gps[3], gps[4] = ("E" if longitude >= 0 else "W"), _dms(longitude)
    return exif


def photo_with_exif(exif: Image.Exif | bytes, container: str = "jpeg", *, size: tuple[int, int] = (96, 64)) -> bytes:
    block = exif if isinstance(exif, bytes) else exif.tobytes()
    return encode(pillow_photo(*size), CONTAINERS[container], exif=block)
