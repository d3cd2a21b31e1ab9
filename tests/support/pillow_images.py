"""Test images in the formats Pillow and its plugins write (HEIC, JPEG XL, BMP, TIFF, MPO, APNG, animated AVIF).

Pixels come from `images.marked_photo` (a red block in the displayed top-left), so orientation and
similarity are checked the same way as for the libvips-made fixtures.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pillow_heif
import pillow_jxl  # noqa: F401 (registers JPEG XL with Pillow)
from PIL import Image

from tests.support.images import marked_photo, solid

pillow_heif.register_heif_opener()

# EXIF orientation -> how to store an upright picture so honouring the tag shows it upright.
_STORE = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def pillow_photo(width: int, height: int, *, seed: int = 1) -> Image.Image:
    array = np.asarray(marked_photo(width, height, seed=seed)).reshape(height, width, 3)
    return Image.fromarray(np.ascontiguousarray(array).astype(np.uint8), "RGB")


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def reference_png(width: int, height: int) -> bytes:
    """The displayed picture every fixture of that size shows, losslessly."""
    return bytes(marked_photo(width, height).pngsave_buffer())


def make_heic(width: int, height: int, *, orientation: int = 1, ten_bit: bool = False, p3: bool = False) -> bytes:
    """A HEIC as phones write it: displayed `width` x `height`; `orientation` stored as EXIF (pillow-heif turns
    it into the HEIF rotation); `ten_bit` makes a 10-bit image; `p3` embeds a Display P3 profile."""
    image = pillow_photo(width, height)
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0112] = orientation
    transpose = _STORE[orientation]
    stored = image if transpose is None else image.transpose(transpose)
    options: dict[str, object] = {"quality": 92, "exif": exif.tobytes()}
    if p3:
        import pyvips

        vips = pyvips.Image.new_from_memory(stored.tobytes(), stored.width, stored.height, 3, "uchar")
        p3_image = vips.copy(interpretation="srgb").icc_transform("p3", input_profile="srgb")
        stored = Image.frombytes("RGB", stored.size, p3_image.write_to_memory())
        options["icc_profile"] = bytes(p3_image.get("icc-profile-data"))
    if ten_bit:  # 16-bit samples are written as a 10-bit HEIC, as HDR phone photos are
        sixteen = np.asarray(stored).astype(np.uint16) * 257
        heif = pillow_heif.from_bytes(mode="RGB;16", size=stored.size, data=sixteen.tobytes())
        buffer = io.BytesIO()
        heif.save(buffer, quality=92, exif=options["exif"])
        return buffer.getvalue()
    return encode(stored, "HEIF", **options)


def make_jxl(width: int, height: int, *, mode: str = "RGB") -> bytes:
    image = pillow_photo(width, height)
    if mode == "RGBA":
        image.putalpha(200)
    elif mode == "L":
        image = image.convert("L")
    return encode(image, "JXL", lossless=True)


def make_bmp(width: int, height: int, *, mode: str = "RGB") -> bytes:
    image = pillow_photo(width, height)
    return encode(image.convert(mode) if mode != "RGB" else image, "BMP")


def make_tiff(width: int, height: int, *, kind: str = "rgb") -> bytes:
    """`rgb`, `cmyk`, `grey16`, `rgba` or `pages` (two pages: the photo, then a solid one)."""
    image = pillow_photo(width, height)
    if kind == "cmyk":
        return encode(image.convert("CMYK"), "TIFF", compression="tiff_deflate")
    if kind == "grey16":
        grey = np.asarray(image.convert("L")).astype(np.uint16) * 257
        return encode(Image.fromarray(grey), "TIFF")
    if kind == "rgba":
        image.putalpha(180)
    if kind == "pages":
        second = Image.new("RGB", (width, height), (0, 0, 255))
        return encode(image, "TIFF", save_all=True, append_images=[second])
    return encode(image, "TIFF")


def make_mpo(width: int, height: int) -> bytes:
    """A multi-picture JPEG (3D cameras, depth photos): the photo, then a second frame."""
    first, second = pillow_photo(width, height), pillow_photo(width, height, seed=7)
    return encode(first, "MPO", save_all=True, append_images=[second], quality=92)


def tiny_mp4() -> bytes:
    """A minimal valid ISO-BMFF box sequence as a movie starts: ftyp, an empty moov, a small mdat."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    mvhd = box(b"mvhd", bytes(4) + bytes(8) + struct.pack(">II", 1000, 0) + bytes(80))
    return (
        box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41") + box(b"moov", mvhd) + box(b"mdat", bytes(64))
    )


def make_motion_photo(width: int, height: int) -> bytes:
    """A JPEG with an MP4 appended, as Google/Samsung motion photos are."""
    return encode(pillow_photo(width, height), "JPEG", quality=92) + tiny_mp4()


def make_apng(width: int, height: int, *, frames: int = 3) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGBA", (width, height), (*colours[i % 4], 255)) for i in range(frames)]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:], duration=80, loop=0)


def make_animated_avif(width: int, height: int, *, frames: int = 3) -> bytes:
    """An AVIF image sequence (`avis`), as Pillow's libavif writes it."""
    images = [
        Image.frombytes("RGB", (width, height), solid(width, height, [40 * i, 120, 200]).write_to_memory())
        for i in range(frames)
    ]
    return encode(images[0], "AVIF", save_all=True, append_images=images[1:], duration=100)
