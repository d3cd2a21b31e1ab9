"""Apply EXIF orientation to pixels, frame by frame for animations."""

from __future__ import annotations

from typing import cast

import pyvips

from pinhole.imaging.frames import map_frames


def orientation(image: pyvips.Image) -> int:
    """The EXIF orientation (1-8) libvips read; 1 when absent or nonsense."""
    value = int(image.get("orientation")) if "orientation" in image.get_fields() else 1
    return value if 1 <= value <= 8 else 1


def autorotate(image: pyvips.Image) -> pyvips.Image:
    """Turn the pixels the way the `orientation` tag says and drop the tag.

    libvips' own autorot turns an animation strip as one picture, so frames are turned one by one.
    """
    if orientation(image) == 1:
        return image
    return map_frames(image, lambda frame: cast(pyvips.Image, frame.autorot()))
