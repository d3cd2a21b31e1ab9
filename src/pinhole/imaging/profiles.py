"""Whether a source needs colour management to become sRGB, read from its header (no pixel decoded).

Converting to sRGB through the embedded (or a default) ICC profile costs more than the rest of a typical render:
a 4000x3000 JPEG to 800 px took ~290 ms with `export_profile="srgb"` and ~80 ms without it on the bench machine,
for the same bytes out when the source has no profile. So the conversion runs only when it changes something: the
source carries a profile that is not sRGB (Display P3, Adobe RGB, a CMYK or greyscale profile...) or its pixels are
not 8-bit RGB or greyscale (CMYK, 16-bit, Lab...). Untagged RGB is sRGB by convention (what browsers assume).
"""

from __future__ import annotations

import struct

import pyvips

PROFILE_FIELD = "icc-profile-data"
PLAIN = frozenset({"srgb", "b-w"})  # 8-bit interpretations that are already what the output wants
HEADER_SIZE = 128


def needs_srgb_conversion(header: pyvips.Image) -> bool:
    """True unless the image is 8-bit sRGB (or greyscale) without a profile or with an sRGB one."""
    if header.interpretation not in PLAIN or header.format != "uchar":
        return True
    if header.get_typeof(PROFILE_FIELD) == 0:
        return False
    return not is_srgb_profile(bytes(header.get(PROFILE_FIELD)))


def is_srgb_profile(profile: bytes) -> bool:
    """An RGB display profile whose description names sRGB ("sRGB IEC61966-2.1", "sRGB built-in", ...)."""
    if len(profile) < HEADER_SIZE + 4 or profile[16:20] != b"RGB ":
        return False
    description = _description(profile)
    return description is not None and "srgb" in description.lower()


def _description(profile: bytes) -> str | None:
    """The `desc` tag's text: ICC v2 `desc` (ASCII) or v4 `mluc` (the first record, UTF-16BE)."""
    (count,) = struct.unpack_from(">I", profile, HEADER_SIZE)
    for index in range(min(count, 100)):
        entry = HEADER_SIZE + 4 + 12 * index
        if entry + 12 > len(profile):
            return None
        signature, offset, size = struct.unpack_from(">4sII", profile, entry)
        if signature != b"desc":
            continue
        tag = profile[offset : offset + size]
        if tag[:4] == b"desc" and len(tag) >= 12:
            (length,) = struct.unpack_from(">I", tag, 8)
            return tag[12 : 12 + length].split(b"\0", 1)[0].decode("latin-1")
        if tag[:4] == b"mluc" and len(tag) >= 28:
            length, start = struct.unpack_from(">II", tag, 20)
            return tag[start : start + length].decode("utf-16-be", errors="replace")
        return None
    return None
