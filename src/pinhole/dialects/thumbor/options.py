"""A thumbor request as the one transform parser's fields (`api.transform_query.TransformFields`).

`WxH` crops to fill (thumbor's default, enlarging unless `no_upscale()`); `fit-in` fits inside without enlarging
(unless `upscale()`); `full-fit-in` scales until the box is covered, without cropping; `adaptive-` turns the box to
the image's orientation; `0` or no side is proportional, `orig` the original's side. `smart` crops at the centre,
where thumbor lands when it detects nothing. Not yet served (a 400 naming them): flips, trim, manual crops,
alignments other than the centre, and the filters that need the new transform options.
"""

from __future__ import annotations

from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.thumbor.url import Filter, ThumborUrl
from pinhole.errors import InvalidTransform

NO_OPS = frozenset({"strip_exif", "strip_icc"})  # pinhole strips metadata from every stored original
FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp", "gif": "gif", "avif": "avif", "heic": "heic"}


def fields_for(url: ThumborUrl, image: Image) -> TransformFields:
    _refuse_unsupported(url)
    quality, fmt, upscale = _read_filters(url.filters)
    width, height = _side(url.width, image.width), _side(url.height, image.height)
    if url.adaptive and width and height and (width > height) != (image.width > image.height):
        width, height = height, width
    if url.full_fit_in and width and height:
        scale = max(width / image.width, height / image.height)
        width, height = max(1, round(image.width * scale)), None
    box = url.fit_in or url.full_fit_in
    enlarge = upscale if upscale is not None else not box
    return TransformFields(
        w=width, h=height, q=quality, format=fmt, fit="inside" if box else "cover", enlarge=bool(enlarge)
    )


def _side(value: str | None, original: int) -> int | None:
    if value is None or value == "0":
        return None
    return original if value == "orig" else int(value)


def _refuse_unsupported(url: ThumborUrl) -> None:
    unsupported = [
        ("flips (-W or -H)", url.flip),
        ("trim", url.trim),
        ("manual crops (AxB:CxD)", url.crop is not None),
        ("halign", url.halign not in (None, "center")),
        ("valign", url.valign not in (None, "middle")),
    ]
    named = [name for name, present in unsupported if present]
    if named:
        raise InvalidTransform(f"Not supported yet: {', '.join(named)}.")


def _read_filters(filters: tuple[Filter, ...]) -> tuple[int | None, str | None, bool | None]:
    quality: int | None = None
    fmt: str | None = None
    upscale: bool | None = None
    for item in filters:
        if item.name == "quality":
            quality = _int_arg(item)
        elif item.name == "format":
            fmt = _format_arg(item)
        elif item.name in ("upscale", "no_upscale"):
            upscale = item.name == "upscale"
        elif item.name not in NO_OPS:
            raise InvalidTransform(f"Filter not supported yet: {item.name}.", field="filters")
    return quality, fmt, upscale


def _int_arg(item: Filter) -> int:
    if len(item.args) != 1 or not item.args[0].isdigit():
        raise InvalidTransform(f"{item.name}() takes one whole number.", field="filters")
    return int(item.args[0])


def _format_arg(item: Filter) -> str:
    name = FORMATS.get(item.args[0].lower()) if len(item.args) == 1 else None
    if name is None:
        raise InvalidTransform(f"format() takes one of {', '.join(FORMATS)}.", field="filters")
    return name
