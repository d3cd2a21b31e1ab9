"""What a render reads an original from: its bytes, or (large originals on local disk) its file, in blocks.

A 108 MP JPEG is a 30 MB file. Read into bytes for a render, it is held whole beside the decoder's own memory:
the w=800 render grew the server by 47 MiB, 29 of them the bytes (bench/memory.py). libvips' own file source maps
the file, which shows in RSS just the same. A seekable custom source hands libvips the file in the blocks it asks
for (4 kB), so only the decoder's memory remains (+22 MiB in process); each block is a call into Python, which is
why small originals are still read as bytes (`services/variants.py` chooses). Formats Pillow decodes read bytes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyvips

Source = bytes | Path
HEAD_BYTES = 4096  # enough for every signature the format checks read (ISO-BMFF's ftyp box, magic numbers)


_reading = threading.local()


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """The span of one render in this thread: the file sources it opens are kept (libvips calls back into them
    until the last pixel is written; one collected early aborted the process) and closed when it ends."""
    held: list[tuple[pyvips.SourceCustom, BinaryIO]] = []
    outer = getattr(_reading, "held", None)
    _reading.held = held
    try:
        yield
    finally:
        _reading.held = outer
        for _, file in held:
            file.close()
        held.clear()


def vips_source(source: Source) -> pyvips.Source:
    """A libvips source over the bytes (no copy, unlike the `_buffer` calls) or reading the file in blocks (only
    inside `reading()`)."""
    if isinstance(source, bytes):
        return pyvips.Source.new_from_memory(source)
    held: list[tuple[pyvips.SourceCustom, BinaryIO]] | None = getattr(_reading, "held", None)
    if held is None:
        raise RuntimeError("a file is read only inside sources.reading()")
    file = source.open("rb")
    stream = pyvips.SourceCustom()
    stream.on_read(file.read)
    stream.on_seek(file.seek)
    held.append((stream, file))
    return stream


def head(source: Source) -> bytes:
    """The leading bytes, for signature checks."""
    if isinstance(source, bytes):
        return source[:HEAD_BYTES]
    with source.open("rb") as file:
        return file.read(HEAD_BYTES)


def as_bytes(source: Source) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def detected_loader(source: Source) -> str | None:
    """The loader class libvips' own detection picks (`VipsForeignLoadJpegBuffer` for bytes,
    `VipsForeignLoadJpegSource` for a file), or None."""
    if isinstance(source, bytes):
        pointer = pyvips.vips_lib.vips_foreign_find_load_buffer(source, len(source))
    else:
        pointer = pyvips.vips_lib.vips_foreign_find_load_source(vips_source(source).pointer)
    return None if pointer == pyvips.ffi.NULL else str(pyvips.ffi.string(pointer).decode())


def loader_operation(loader: str, source: Source) -> str:
    """The operation of `loader` (a format's nickname, `jpegload`) that reads this kind of source."""
    return f"{loader}_buffer" if isinstance(source, bytes) else f"{loader}_source"


def load_with(loader: str, source: Source, **options: object) -> pyvips.Image:
    """Open `source` with a format's own loader (not libvips' detection)."""
    argument: object = source if isinstance(source, bytes) else vips_source(source)
    image: pyvips.Image = pyvips.Operation.call(loader_operation(loader, source), argument, **options)
    return image
