"""Lossless metadata removal for HEIF files (HEIC): blank the Exif and XMP items where they lie.

Re-encoding a HEIC costs quality and seconds of HEVC encoding, and libvips cannot write one here. The metadata items
are separate from the image items: their bytes are overwritten with zeros and their item type renamed (so readers
skip them), which keeps every offset in the file valid and the coded pictures untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinhole.imaging.containers import Malformed, Truncated

_XMP_TYPES = (b"application/rdf+xml", b"application/xmp+xml")
_BLANK_TYPE = b"skip"


@dataclass
class _Item:
    type_at: int
    item_type: bytes
    content_type: bytes = b""
    extents: list[tuple[int, int]] = field(default_factory=list)

    @property
    def is_metadata(self) -> bool:
        return self.item_type == b"Exif" or (self.item_type == b"mime" and self.content_type in _XMP_TYPES)


class _Reader:
    def __init__(self, data: bytes, position: int) -> None:
        self.data, self.position = data, position

    def uint(self, size: int) -> int:
        if size == 0:
            return 0
        end = self.position + size
        if end > len(self.data):
            raise Truncated
        value = int.from_bytes(self.data[self.position : end], "big")
        self.position = end
        return value

    def cstring(self) -> bytes:
        end = self.data.find(b"\0", self.position)
        if end == -1:
            raise Malformed
        value, self.position = self.data[self.position : end], end + 1
        return value


def _boxes(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """The first box of each type between `start` and `end`: type -> (payload start, box end)."""
    found: dict[bytes, tuple[int, int]] = {}
    position = start
    while position + 8 <= end:
        size, kind = int.from_bytes(data[position : position + 4], "big"), data[position + 4 : position + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise Malformed
        found.setdefault(kind, (position + header, position + size))
        position += size
    return found


def strip_heif_metadata(data: bytes) -> bytes:
    """`data` with its Exif and XMP items blanked (same length); unchanged when it has none."""
    meta = _boxes(data, 0, len(data)).get(b"meta")
    if meta is None:
        return data
    children = _boxes(data, meta[0] + 4, meta[1])  # `meta` is a full box: version and flags first
    if b"iinf" not in children or b"iloc" not in children:
        return data
    items = _items(data, children[b"iinf"][0])
    idat = children.get(b"idat", (0, 0))[0]
    _locate(data, children[b"iloc"][0], items, idat_start=idat)
    blanked = bytearray(data)
    for item in items.values():
        if not item.is_metadata:
            continue
        for offset, length in item.extents:
            if offset + length > len(data):
                raise Truncated
            blanked[offset : offset + length] = bytes(length)
        blanked[item.type_at : item.type_at + 4] = _BLANK_TYPE
    return bytes(blanked)


def _items(data: bytes, start: int) -> dict[int, _Item]:
    reader = _Reader(data, start)
    version = reader.uint(1)
    reader.uint(3)
    count = reader.uint(2 if version == 0 else 4)
    items: dict[int, _Item] = {}
    for _ in range(count):
        box_start = reader.position
        size, kind = reader.uint(4), data[reader.position : reader.position + 4]
        reader.position += 4
        if kind != b"infe" or size < 12:
            raise Malformed
        infe_version = reader.uint(1)
        reader.uint(3)
        if infe_version >= 2:
            item_id = reader.uint(2 if infe_version == 2 else 4)
            reader.uint(2)  # protection index
            item = _Item(type_at=reader.position, item_type=data[reader.position : reader.position + 4])
            reader.position += 4
            if item.item_type == b"mime":
                reader.cstring()  # item name
                item.content_type = reader.cstring().lower()
            items[item_id] = item
        reader.position = box_start + size
    return items


def _locate(data: bytes, start: int, items: dict[int, _Item], *, idat_start: int) -> None:
    reader = _Reader(data, start)
    version = reader.uint(1)
    reader.uint(3)
    sizes = reader.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 0x0F
    sizes = reader.uint(1)
    base_size, index_size = sizes >> 4, (sizes & 0x0F) if version in (1, 2) else 0
    for _ in range(reader.uint(2 if version < 2 else 4)):
        item_id = reader.uint(2 if version < 2 else 4)
        method = reader.uint(2) & 0x0F if version in (1, 2) else 0
        reader.uint(2)  # data reference index
        base = reader.uint(base_size)
        extents = []
        for _ in range(reader.uint(2)):
            reader.uint(index_size)
            offset, length = reader.uint(offset_size), reader.uint(length_size)
            extents.append((base + offset + (idat_start if method == 1 else 0), length))
        if item_id in items and method in (0, 1):
            items[item_id].extents = extents
