"""Sources a proxy URL names: a hosted image by its v2 id (`pinhole://<id>` or the bare id).

Which keys open which images: `access`. Remote origins (`http(s)://`) are refused: proxy mode is not built yet.
"""

from __future__ import annotations

from pinhole.errors import ImageNotFound, InvalidTransform

SCHEME = "pinhole://"


def hosted_id(source: str) -> str:
    """The image id a source names; InvalidTransform for remote origins, ImageNotFound for what names none."""
    image_id = source.removeprefix(SCHEME)
    if "://" in image_id:
        raise InvalidTransform("Only hosted images (pinhole://<id>) are served; remote origins are not allowed.")
    if "/" in image_id or not image_id:
        raise ImageNotFound("No image has this id.")
    return image_id
