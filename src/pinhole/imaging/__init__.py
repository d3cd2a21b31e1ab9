"""Image processing: identify and vet uploads, keep clean originals, render variants with libvips.

Nothing here holds state beyond small caches filled at first use (the probed format support and
the fallback image); the composition root decides limits and passes them in.
"""

from pinhole.imaging.fallback import fallback_webp
from pinhole.imaging.formats import FORMATS, Format, available_formats, format_for_extension, format_named
from pinhole.imaging.ingest import PreparedOriginal, prepare_original
from pinhole.imaging.inspect import ImageLimits, InspectedImage, inspect_image
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.imaging.pipeline import Rendered, render

__all__ = [
    "FORMATS",
    "Format",
    "ImageLimits",
    "InspectedImage",
    "OutputLimits",
    "PreparedOriginal",
    "Rendered",
    "TransformOptions",
    "available_formats",
    "fallback_webp",
    "format_for_extension",
    "format_named",
    "inspect_image",
    "make_transform",
    "prepare_original",
    "render",
]
