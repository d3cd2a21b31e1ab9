"""Sources a proxy URL names: a hosted image by its v2 id (`pinhole://<id>` or the bare id), or a remote origin
(an absolute `http(s)://` URL, served when `proxy.allowed_sources` allows it: `services.remote_origins`).

Which keys open which hosted images: `access`. A remote original belongs to no client's own keys: it is public,
served as a transient image record (`remote_image`) that is never stored, under the dialect's instance-wide keys.
"""

from __future__ import annotations

from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, InvalidTransform
from pinhole.services.remote_origins import RemoteCopy

SCHEME = "pinhole://"
REMOTE_SCHEMES = ("http://", "https://")


def remote_url(source: str) -> str | None:
    """The origin URL a source names, or None when it names a hosted image."""
    return source if source[:8].lower().startswith(REMOTE_SCHEMES) else None


def remote_image(copy: RemoteCopy, *, client_id: str | None) -> Image:
    """A remote original as an image record (never added to a session) for the one delivery path: public, owned
    by the dialect's client (whose watermark applies), its id derived from the copy's content."""
    return Image(
        id=f"remote-{copy.content_hash[:29]}",
        client_id=client_id or "",
        content_hash=copy.content_hash,
        mime_type=copy.mime_type,
        format=copy.format,
        width=copy.width,
        height=copy.height,
        frames=1,
        size=copy.size,
        is_private=False,
        view_count=0,
    )


def hosted_id(source: str) -> str:
    """The image id a source names; InvalidTransform for remote origins, ImageNotFound for what names none."""
    image_id = source.removeprefix(SCHEME)
    if "://" in image_id:
        raise InvalidTransform("Sources are hosted images (pinhole://<id>) or http(s) URLs.")
    if "/" in image_id or not image_id:
        raise ImageNotFound("No image has this id.")
    return image_id
