"""Tell an image format from its first bytes (magic numbers and ISO-BMFF brands), never from a name."""

from __future__ import annotations

from pinhole.imaging.formats import Format, format_named

HEAD_SIZE = 64
"""How many leading bytes `sniff_format` needs to see."""

_MAGIC: tuple[tuple[str, tuple[tuple[int, bytes], ...]], ...] = (
    ("jpeg", ((0, b"\xff\xd8\xff"),)),
    ("png", ((0, b"\x89PNG\r\n\x1a\n"),)),
    ("gif", ((0, b"GIF87a"),)),
    ("gif", ((0, b"GIF89a"),)),
    ("webp", ((0, b"RIFF"), (8, b"WEBP"))),
    ("tiff", ((0, b"II*\0"),)),
    ("tiff", ((0, b"MM\0*"),)),
    ("tiff", ((0, b"II+\0"),)),  # BigTIFF
    ("tiff", ((0, b"MM\0+"),)),
    ("jxl", ((0, b"\xff\x0a"),)),  # bare codestream
    ("jxl", ((0, b"\0\0\0\x0cJXL \r\n\x87\n"),)),  # ISO-BMFF container
)

# A BMP starts with "BM", its file size and (at 14) the size of one of the known info headers.
_BMP_INFO_HEADERS = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# ISO-BMFF `ftyp` brands, most specific first: an AVIF must list `avif` (and may list mif1 or
# miaf too); a file with only the generic HEIF brands is taken for HEIC.
_BRANDS: tuple[tuple[str, frozenset[bytes]], ...] = (
    ("avif", frozenset({b"avif", b"avis"})),
    ("heic", frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})),
)


def sniff_format(head: bytes) -> Format | None:
    """The format the leading bytes announce, or None for anything that is not a known image."""
    for name, marks in _MAGIC:
        if all(head[offset : offset + len(mark)] == mark for offset, mark in marks):
            return format_named(name)
    if _is_bmp(head):
        return format_named("bmp")
    return _sniff_heif(head)


def _is_bmp(head: bytes) -> bool:
    return len(head) >= 18 and head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_INFO_HEADERS


def _sniff_heif(head: bytes) -> Format | None:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    box = head[8 : min(box_size, len(head))]
    brands = {box[:4]} | {box[index : index + 4] for index in range(8, len(box) - 3, 4)}
    return next((format_named(name) for name, known in _BRANDS if brands & known), None)
