"""Test images made on the spot with pyvips, and helpers that assert images by what they are.

Every fixture is generated (never checked in) so the hostile matrix (every EXIF orientation, CMYK,
16-bit, alpha, animation, truncation, polyglots, lying headers) stays small and explicit.
Sizes passed to the makers are the *displayed* size: an orientation 5-8 JPEG is stored transposed.
Makers are deterministic (seeded grain) and cached: the same arguments give the same bytes.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable

import numpy as np
import pyvips

RED_BLOCK = 0.25
"""The red block covers this fraction of each side, in the displayed top-left corner."""

_LOADER_FORMATS = {
    "jpegload": "jpeg",
    "pngload": "png",
    "webpload": "webp",
    "gifload": "gif",
}
_HEIF_FORMATS = {"av1": "avif", "hevc": "heic"}

# How to store an upright picture so a viewer that honours EXIF orientation shows it upright
# (the inverse of what the orientation tells the viewer to do).
_STORE_FOR_ORIENTATION: dict[int, Callable[[pyvips.Image], pyvips.Image]] = {
    1: lambda im: im,
    2: lambda im: im.fliphor(),
    3: lambda im: im.rot180(),
    4: lambda im: im.flipver(),
    5: lambda im: im.rot90().fliphor(),  # transpose: top-left stays top-left
    6: lambda im: im.rot270(),
    7: lambda im: im.rot270().fliphor(),  # transverse: top-left goes to bottom-right
    8: lambda im: im.rot90(),
}


# ---------------------------------------------------------------------------------------------
# Pixel sources


def photo(width: int, height: int, *, seed: int = 1) -> pyvips.Image:
    """A photo-like 8-bit sRGB image: gradients, a few discs and grain (so JPEG is not trivially flat)."""
    xyz = pyvips.Image.xyz(width, height)
    x, y = xyz[0], xyz[1]
    red = x * (120.0 / max(width, 1)) + 20
    green = y * (200.0 / max(height, 1)) + 30
    blue = (x + y) * (180.0 / max(width + height, 1)) + 40
    image = red.bandjoin([green, blue])
    for index, colour in enumerate(([40, 200, 230], [230, 220, 60], [20, 40, 90])):
        centre_x = width * (0.3 + 0.25 * ((index + seed) % 3))
        centre_y = height * (0.35 + 0.2 * ((index * 2 + seed) % 3))
        radius = min(width, height) * (0.12 + 0.04 * index)
        disc = ((x - centre_x) ** 2 + (y - centre_y) ** 2) < radius**2
        image = disc.ifthenelse(colour, image)
    grain = pyvips.Image.gaussnoise(width, height, sigma=4, mean=0, seed=seed)
    return (image + grain).cast("uchar").copy(interpretation="srgb")


def solid(width: int, height: int, colour: list[int]) -> pyvips.Image:
    """An 8-bit image of one colour (one band per value in `colour`)."""
    return pyvips.Image.black(width, height).new_from_image(colour).cast("uchar")


def marked_photo(width: int, height: int, *, seed: int = 1) -> pyvips.Image:
    """`photo()` with a pure red block in the top-left corner, so orientation and crops are visible."""
    block_w = max(1, round(width * RED_BLOCK))
    block_h = max(1, round(height * RED_BLOCK))
    block = solid(block_w, block_h, [255, 0, 0])
    return photo(width, height, seed=seed).insert(block, 0, 0).copy(interpretation="srgb")


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    """Add an alpha band: fully transparent on the left third, half transparent in the middle."""
    x = pyvips.Image.xyz(image.width, image.height)[0]
    third = image.width / 3
    alpha = (x < third).ifthenelse(0, (x < 2 * third).ifthenelse(128, 255)).cast("uchar")
    return image.bandjoin(alpha).copy(interpretation="srgb")


def _animation(width: int, height: int, frames: int, *, alpha: bool = False) -> pyvips.Image:
    """A vertical strip of `frames` distinct frames, tagged the way libvips expects animations."""
    pages = []
    for index in range(frames):
        page = marked_photo(width, height, seed=index + 1)
        # A bar that moves along the bottom half, clear of the red block, so every frame differs.
        bar = solid(max(1, width // 4), max(1, height // 2), [0, 0, (index * 53) % 256])
        page = page.insert(bar, (index * width // max(frames, 1)) % max(width, 1), height - bar.height)
        pages.append(_with_alpha(page) if alpha else page)
    strip = pyvips.Image.arrayjoin(pages, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.gint_type, "n-pages", frames)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [80] * frames)
    strip.set_type(pyvips.GValue.gint_type, "loop", 0)
    return strip


def _tag(image: pyvips.Image, name: str, value: str) -> None:
    image.set_type(pyvips.GValue.gstr_type, name, value)


def _tagged(image: pyvips.Image, *, exif: bool, orientation: int = 1) -> pyvips.Image:
    """A copy carrying the EXIF/XMP fields (when `exif`) and the orientation tag (when not 1)."""
    image = image.copy()
    if exif:
        _add_exif(image)
    if exif or orientation != 1:
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image


def _add_exif(image: pyvips.Image) -> None:
    """Camera and GPS fields that must not survive stripping."""
    _tag(image, "exif-ifd0-Make", "PinholeCam")
    _tag(image, "exif-ifd0-Model", "Test Body 1")
    _tag(image, "exif-ifd0-Artist", "Jane Photographer")
    _tag(image, "exif-ifd2-DateTimeOriginal", "2024:05:01 12:34:56")
    _tag(image, "exif-ifd3-GPSLatitudeRef", "N")
    _tag(image, "exif-ifd3-GPSLatitude", "51/1 30/1 2620/100")
    _tag(image, "exif-ifd3-GPSLongitudeRef", "W")
    _tag(image, "exif-ifd3-GPSLongitude", "0/1 7/1 3960/100")
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp)


# ---------------------------------------------------------------------------------------------
# Makers: each returns encoded bytes


@functools.cache
def make_jpeg(
    width: int,
    height: int,
    *,
    orientation: int = 1,
    exif: bool = True,
    quality: int = 90,
    icc: bool = False,
    seed: int = 1,
) -> bytes:
    """A photo-like JPEG, displayed as `width` x `height` with a red block in the displayed top-left.

    `orientation` sets the EXIF tag and stores the pixels so that honouring it shows the picture
    upright; `exif` adds camera, date, GPS and XMP fields; `icc` embeds a Display P3 profile.
    """
    image = marked_photo(width, height, seed=seed)
    if icc:
        image = image.icc_transform("p3", input_profile="srgb")
    image = _tagged(_STORE_FOR_ORIENTATION[orientation](image), exif=exif, orientation=orientation)
    keep = "all" if exif or icc else "none"
    return bytes(image.jpegsave_buffer(Q=quality, keep=keep))


@functools.cache
def make_png(width: int, height: int, *, alpha: bool = False, sixteen_bit: bool = False, exif: bool = False) -> bytes:
    """A photo-like PNG; `sixteen_bit` stores 16 bits per sample (rgb16/rgba16); `exif` adds GPS & co."""
    image = marked_photo(width, height)
    if alpha:
        image = _with_alpha(image)
    if sixteen_bit:
        image = (image.cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")
    return bytes(_tagged(image, exif=exif).pngsave_buffer(keep="all" if exif else "none"))


@functools.cache
def make_webp(
    width: int,
    height: int,
    *,
    alpha: bool = False,
    frames: int = 1,
    lossless: bool = False,
    exif: bool = False,
    orientation: int = 1,
) -> bytes:
    """A WebP, animated when `frames` > 1 (`width` x `height` is one frame, as stored).

    `orientation` only sets the EXIF tag (pixels are not pre-turned); `exif` adds GPS & co.
    """
    image = _tagged(_animation(width, height, frames, alpha=alpha), exif=exif, orientation=orientation)
    keep = "all" if exif or orientation != 1 else "none"
    return bytes(image.webpsave_buffer(Q=90, lossless=lossless, keep=keep))


@functools.cache
def make_gif(width: int, height: int, *, frames: int = 1) -> bytes:
    """A GIF, animated when `frames` > 1 (`width` x `height` is one frame)."""
    return bytes(_animation(width, height, frames).gifsave_buffer(keep="none"))


@functools.cache
def make_cmyk_jpeg(width: int, height: int, *, profile: bool = False) -> bytes:
    """A CMYK JPEG (Adobe inverted, as print tools write it); `profile` embeds the CMYK ICC profile."""
    cmyk = marked_photo(width, height).icc_transform("cmyk", input_profile="srgb")
    return bytes(cmyk.jpegsave_buffer(Q=90, keep="icc" if profile else "none"))


@functools.cache
def make_avif(width: int, height: int, *, alpha: bool = False) -> bytes:
    """An AVIF (HEIF container, AV1 compression)."""
    image = marked_photo(width, height)
    if alpha:
        image = _with_alpha(image)
    return bytes(image.heifsave_buffer(compression="av1", Q=60, effort=0, keep="none"))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png_header(width: int, height: int) -> bytes:
    """A hand-made PNG whose header claims `width` x `height` (RGB, 8-bit) but carries one tiny row.

    Decoding it would need width * height * 3 bytes; only a header check refuses it cheaply.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x80" * 3 * min(width, 16))
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def make_gif_header(width: int, height: int) -> bytes:
    """A hand-made GIF whose logical screen and single frame claim `width` x `height` (max 65535)."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b"\x3b"


# ---------------------------------------------------------------------------------------------
# Hostile variants


def truncated(data: bytes, *, keep: float = 0.6) -> bytes:
    """The first `keep` fraction of `data`, as an interrupted upload leaves it."""
    return data[: max(1, int(len(data) * keep))]


def _zip_payload() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<html><script>alert(document.cookie)</script></html>")
    return buffer.getvalue()


HTML_PAYLOAD = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def polyglot(data: bytes, *, payload: bytes | None = None) -> bytes:
    """`data` followed by a foreign payload (a ZIP holding HTML unless `payload` is given)."""
    return data + (_zip_payload() if payload is None else payload)


# ---------------------------------------------------------------------------------------------
# Assertions by what an image is


def open_image(data: bytes, *, all_frames: bool = False) -> pyvips.Image:
    """Decode `data` with libvips (every frame stacked vertically when `all_frames`)."""
    image = pyvips.Image.new_from_buffer(data, "")
    if all_frames and "n-pages" in image.get_fields():
        return pyvips.Image.new_from_buffer(data, "", n=-1)
    return image


def format_of(data: bytes) -> str:
    """The format libvips sniffs from the bytes: jpeg, png, webp, gif, avif or heic."""
    image = open_image(data)
    loader = str(image.get("vips-loader")).removesuffix("_buffer").removesuffix("_source")
    if loader == "heifload":
        return _HEIF_FORMATS[str(image.get("heif-compression"))]
    return _LOADER_FORMATS[loader]


def frame_count(data: bytes) -> int:
    image = open_image(data)
    return int(image.get("n-pages")) if "n-pages" in image.get_fields() else 1


def assert_image(data: bytes, *, format: str, width: int, height: int, frames: int | None = None) -> pyvips.Image:
    """Assert format (sniffed), one frame's size and optionally the frame count; return the image."""
    image = open_image(data)
    page_height = int(image.get("page-height")) if "page-height" in image.get_fields() else image.height
    assert (format_of(data), image.width, page_height) == (format, width, height)
    if frames is not None:
        assert frame_count(data) == frames
    return image


def exif_fields(data: bytes) -> dict[str, str]:
    """The EXIF tags libvips reads from `data` (empty when there is no EXIF block)."""
    image = open_image(data)
    return {name: str(image.get(name)) for name in image.get_fields() if name.startswith("exif-ifd")}


def metadata_fields(data: bytes) -> set[str]:
    """Names of the metadata blocks present: exif-data, xmp-data, iptc-data, icc-profile-data, comments."""
    fields = open_image(data).get_fields()
    blocks = {"exif-data", "xmp-data", "iptc-data", "icc-profile-data"}
    return {name for name in fields if name in blocks or "comment" in name}


def to_array(data: bytes) -> np.ndarray:
    """First frame as an 8-bit sRGB H x W x 3 array, alpha flattened onto white."""
    image = open_image(data)
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return np.asarray(image.cast("uchar")).reshape(image.height, image.width, 3)


def red_block_corner(data: bytes) -> str:
    """Which displayed corner holds the red block: top-left, top-right, bottom-left or bottom-right."""
    pixels = to_array(data).astype(np.float64)
    redness = pixels[..., 0] - (pixels[..., 1] + pixels[..., 2]) / 2
    rows, cols = redness.shape
    band_r, band_c = max(1, int(rows * RED_BLOCK * 0.6)), max(1, int(cols * RED_BLOCK * 0.6))
    corners = {
        "top-left": redness[:band_r, :band_c],
        "top-right": redness[:band_r, -band_c:],
        "bottom-left": redness[-band_r:, :band_c],
        "bottom-right": redness[-band_r:, -band_c:],
    }
    return max(corners, key=lambda name: float(corners[name].mean()))


def _grey(data: bytes, size: tuple[int, int]) -> np.ndarray:
    image = pyvips.Image.new_from_array(np.ascontiguousarray(to_array(data))).copy(interpretation="srgb")
    image = image.resize(size[0] / image.width, vscale=size[1] / image.height)
    grey = image.colourspace("b-w")[0]
    return np.asarray(grey).astype(np.float64).reshape(grey.height, grey.width)


def _box_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over every `window` x `window` box (valid region only), via an integral image."""
    integral = np.pad(values, ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    total = (
        integral[window:, window:]
        - integral[:-window, window:]
        - integral[window:, :-window]
        + integral[:-window, :-window]
    )
    mean: np.ndarray = total / (window * window)
    return mean


def ssim(a: np.ndarray, b: np.ndarray, *, window: int = 7) -> float:
    """Mean structural similarity of two equal-size greyscale arrays (1.0 = identical)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    window = max(1, min(window, *a.shape))
    mu_a, mu_b = _box_mean(a, window), _box_mean(b, window)
    var_a = _box_mean(a * a, window) - mu_a**2
    var_b = _box_mean(b * b, window) - mu_b**2
    cov = _box_mean(a * b, window) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(score.mean())


def similarity(a: bytes, b: bytes, *, side: int = 64) -> float:
    """SSIM of two encoded images' first frames, compared at `a`'s aspect ratio and a small size.

    Both are scaled down to at most `side` px (and no larger than the smaller of the two), so the
    score measures structure (what a viewer sees), not grain, resampling or encoder detail.
    """
    first, second = open_image(a), open_image(b)
    longest = min(side, max(first.width, first.height), max(second.width, second.height))
    scale = longest / max(first.width, first.height)
    size = (max(8, round(first.width * scale)), max(8, round(first.height * scale)))
    return ssim(_grey(a, size), _grey(b, size))
