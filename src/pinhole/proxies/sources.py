"""Sources a proxy URL names: a hosted image by its v2 id (`pinhole://<id>` or the bare id).

A dialect's instance-wide keys act for one client (`client_id`): only that client's images open, so a URL signed
for one tenant never opens another's. Private images open only through a valid signature (never `unsafe`,
`insecure` or an unsigned imgix URL). Remote origins (`http(s)://`) are refused: proxy mode is not built yet.
"""

from __future__ import annotations

from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, InvalidTransform
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.principal import ANONYMOUS
from pinhole.services.images import find_image_to_serve

SCHEME = "pinhole://"


def hosted_id(source: str) -> str:
    """The image id a source names; InvalidTransform for remote origins, ImageNotFound for what names none."""
    image_id = source.removeprefix(SCHEME)
    if "://" in image_id:
        raise InvalidTransform("Only hosted images (pinhole://<id>) are served; remote origins are not allowed.")
    if "/" in image_id or not image_id:
        raise ImageNotFound("No image has this id.")
    return image_id


async def hosted_image(runtime: Runtime, source: str, *, client_id: str | None, signed: bool) -> Image:
    """The image `source` names if these keys may serve it; ImageNotFound otherwise (never tells which)."""
    image = await find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=hosted_id(source))
    if image is None or (client_id is not None and image.client_id != client_id):
        raise ImageNotFound("No image has this id.")
    if policy.can_view_image(ANONYMOUS, image) or (signed and client_id is not None):
        return image
    raise ImageNotFound("No image has this id.")
