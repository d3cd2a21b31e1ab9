"""Walk an image file's container structure to find where the image logically ends.

Decoders stop at the end marker and ignore whatever follows, so a file can be an image *and* a
ZIP or HTML page at once (a polyglot). Walking the container finds that end without decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal


class Truncated(Exception):
    """The structure runs past the end of the data."""


class Malformed(Exception):
    """The bytes do not follow the container's structure."""


def logical_end(data: bytes, *, format_name: str) -> int:
    """Offset just past the image's last structural byte (its end marker, last chunk or box)."""
    return _WALKERS[format_name](data)


def _need(data: bytes, end: int) -> None:
    if end > len(data):
        raise Truncated


def _uint(data: bytes, at: int, size: int, order: Literal["big", "little"] = "big") -> int:
    _need(data, at + size)
    return int.from_bytes(data[at : at + size], order)


def _jpeg_end(data: bytes) -> int:
    """Segments by length; entropy-coded scans up to the next real marker; stop after EOI."""
    position = 2
    while True:
        marker, position = _jpeg_marker(data, position)
        if marker == 0xD9:
            return position
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        position += _uint(data, position, 2)
        _need(data, position)
        if marker == 0xDA:
            position = _jpeg_scan_end(data, position)


def _jpeg_marker(data: bytes, position: int) -> tuple[int, int]:
    """The marker at (or, past stray bytes, after) `position`, skipping 0xFF fill bytes."""
    position = data.find(b"\xff", position)
    while position != -1 and position + 1 < len(data) and data[position + 1] == 0xFF:
        position += 1
    if position == -1 or position + 1 >= len(data):
        raise Truncated
    return data[position + 1], position + 2


def _jpeg_scan_end(data: bytes, position: int) -> int:
    """Offset of the first marker after entropy-coded data (0xFF00 is stuffing, RSTn restarts)."""
    while True:
        position = data.find(b"\xff", position)
        if position == -1 or position + 1 >= len(data):
            raise Truncated
        following = data[position + 1]
        if following not in (0x00, 0xFF) and not 0xD0 <= following <= 0xD7:
            return position
        position += 1


def _png_end(data: bytes) -> int:
    position = 8
    while True:
        length, kind = _uint(data, position, 4), data[position + 4 : position + 8]
        position += 12 + length
        _need(data, position)
        if kind == b"IEND":
            return position


def _gif_end(data: bytes) -> int:
    _need(data, 13)
    position = 13 + _colour_table_size(data[10])
    while True:
        _need(data, position + 1)
        block = data[position]
        if block == 0x3B:
            return position + 1
        if block == 0x21:
            position = _gif_sub_blocks(data, position + 2)
        elif block == 0x2C:
            _need(data, position + 10)
            position += 10 + _colour_table_size(data[position + 9]) + 1
            position = _gif_sub_blocks(data, position)
        else:
            raise Malformed


def _colour_table_size(flags: int) -> int:
    return 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0


def _gif_sub_blocks(data: bytes, position: int) -> int:
    while True:
        _need(data, position + 1)
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def _riff_end(data: bytes) -> int:
    _need(data, 12)
    size = _uint(data, 4, 4, "little")
    end = 8 + size + (size & 1)
    _need(data, end)
    return end


def _isobmff_end(data: bytes) -> int:
    """Top-level boxes back to back; a size-0 box runs to the end of the file."""
    position = 0
    while position < len(data):
        _need(data, position + 8)
        size = _uint(data, position, 4)
        if size == 0:  # "to the end of the file", unless this is just zero padding
            return len(data) if data[position + 4 : position + 8].strip(b"\0") else position
        if size == 1:
            size = _uint(data, position + 8, 8)
        if size < 8:
            raise Malformed
        position += size
        _need(data, position)
    return position


def _bmp_end(data: bytes) -> int:
    """The file header's size field: where the pixel rows end."""
    size = _uint(data, 2, 4, "little")
    if size < 26:
        raise Malformed
    _need(data, size)
    return size


def _jxl_end(data: bytes) -> int:
    """A container is a box sequence; a bare codestream's end is only known by decoding it, so it is all image.

    What could hide in such a codestream is looked for by `dangerous_payload` instead.
    """
    return len(data) if data[:2] == b"\xff\x0a" else _isobmff_end(data)


def _whole(data: bytes) -> int:
    """Formats pinhole always re-encodes (TIFF): nothing of the upload's bytes but its pixels is stored."""
    return len(data)


_WALKERS: dict[str, Callable[[bytes], int]] = {
    "jpeg": _jpeg_end,
    "png": _png_end,
    "apng": _png_end,
    "gif": _gif_end,
    "webp": _riff_end,
    "avif": _isobmff_end,
    "heic": _isobmff_end,
    "bmp": _bmp_end,
    "jxl": _jxl_end,
    "tiff": _whole,
}

UNWALKED = frozenset({"jxl"})
"""Formats whose end may not be found by walking: their whole body is searched for `dangerous_payload`."""

_ACTIVE_MARKS = (b"<html", b"<script", b"<!doctype", b"<svg", b"<?xml", b"%pdf-", b"<body", b"<iframe")
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 22 + 65535  # the end-of-central-directory record and its longest comment


def dangerous_payload(data: bytes) -> bool:
    """True when the bytes carry what a browser, a PDF reader or an unzip tool would act on."""
    lowered = data.lower()
    return any(mark in lowered for mark in _ACTIVE_MARKS) or _ZIP_END in data[-_ZIP_TAIL:]


def jpeg_trailer_allowed(trailer: bytes, *, max_padding: int) -> bool:
    """True when what follows a JPEG's end is only what cameras append: further JPEG frames (MPO / multi-picture)
    and, last, an ISO-BMFF movie starting with `ftyp` (a motion photo), with zero padding between them.

    Any other byte (HTML, a ZIP, a PDF, text...) makes it a polyglot, refused.
    """
    position = 0
    while True:
        rest = trailer[position:]
        if not rest:
            return True
        try:
            if rest[:3] == b"\xff\xd8\xff":
                position += _jpeg_end(rest)
                continue
            if rest[4:8] == b"ftyp":
                return _isobmff_end(rest) == len(rest)
        except (Truncated, Malformed):
            return False
        padding = len(rest) - len(rest.lstrip(b"\0"))
        if padding == 0 or padding > max_padding:
            return False
        position += padding


def is_apng(data: bytes) -> bool:
    """A PNG whose `acTL` chunk (before the first `IDAT`) announces an animation."""
    position = 8
    while position + 8 <= len(data):
        length, kind = int.from_bytes(data[position : position + 4], "big"), data[position + 4 : position + 8]
        if kind == b"acTL":
            return True
        if kind == b"IDAT":
            return False
        position += 12 + length
    return False


def webp_is_lossless(data: bytes) -> bool:
    """True when every bitstream in a WebP (including animation frames) is VP8L (lossless)."""
    kinds = _riff_bitstreams(data, 12, len(data))
    return bool(kinds) and all(kind == b"VP8L" for kind in kinds)


def _riff_bitstreams(data: bytes, start: int, end: int) -> list[bytes]:
    kinds: list[bytes] = []
    position = start
    while position + 8 <= end:
        kind, size = data[position : position + 4], _uint(data, position + 4, 4, "little")
        body = position + 8
        if kind in (b"VP8 ", b"VP8L"):
            kinds.append(kind)
        elif kind == b"ANMF":
            kinds += _riff_bitstreams(data, body + 16, min(body + size, end))
        position = body + size + (size & 1)
    return kinds


_JXL_METADATA_BOXES = frozenset({b"Exif", b"xml ", b"jumb"})


def strip_jxl_metadata(data: bytes) -> bytes:
    """A JPEG XL container without its Exif, XMP and JUMBF boxes; the codestream boxes are copied unchanged."""
    if data[:2] == b"\xff\x0a":
        return data  # a bare codestream has nowhere to keep metadata
    kept: list[bytes] = []
    position = 0
    while position < len(data):
        size, kind = _uint(data, position, 4), data[position + 4 : position + 8]
        if size == 1:
            size = _uint(data, position + 8, 8)
        end = len(data) if size == 0 else position + size
        if kind not in _JXL_METADATA_BOXES:
            kept.append(data[position:end])
        position = end
    return b"".join(kept)
