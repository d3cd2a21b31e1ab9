"""Who signed a proxy URL and what it may open (docs/proxies.md, "Per-client keys").

The keys a URL is checked against are the dialect's instance-wide keys (settings; they act for `client_id`) and the
own keys of the client that owns the image the URL names: imgproxy, thumbor and imgix signatures do not name their
key, and the image names its client, so at most `MAX_KEYS` + the settings' keys are tried, every one compared in
constant time. A key opens only its own client's images (private ones included) and makes that client the viewer;
an instance-wide key without a client opens public images. Unsigned URLs (where the dialect allows them) open public
images, and never those of a client that holds its own keys for the dialect (it asked for signed URLs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, MissingSignature
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.principal import ANONYMOUS, Principal, Via
from pinhole.services import proxy_keys
from pinhole.services.images import find_image_to_serve
from pinhole.services.proxy_keys import ProxyKey

Verify = Callable[[Sequence[ProxyKey]], ProxyKey | None]
"""A dialect's check: the key among `keys` that signed the URL, None when it is unsigned; InvalidSignature when it
is signed by none of them."""


@dataclass(frozen=True)
class Access:
    """One dialect's signing rules for a request."""

    dialect: str
    instance: Sequence[ProxyKey]  # the settings' keys
    client_id: str | None  # whom the settings' keys (and unsigned URLs) act for; None: every client's public images
    required: bool  # the settings ask every URL to be signed
    verify: Verify
    owner_keys: bool = True  # also try the image owner's own keys (Cloudinary's cloud name picks them instead)


@dataclass(frozen=True)
class Opened:
    image: Image
    viewer: Principal | None  # the image's client when its own key signed, else None (a stranger)


async def open_image(runtime: Runtime, image_id: str, access: Access) -> Opened:
    """The image if this URL may open it; ImageNotFound otherwise (never telling which)."""
    image = await find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=image_id)
    own: list[ProxyKey] = []
    if image is not None and access.owner_keys:
        own = await proxy_keys.keys_for(
            db=runtime.db,
            server_secret=runtime.secret,
            client_id=image.client_id,
            dialect=access.dialect,
            absence=runtime.proxy_key_absence,
        )
    return opened(image, access, own)


def opened(image: Image | None, access: Access, own: Sequence[ProxyKey]) -> Opened:
    """`open_image`'s decision once the image and its owner's own keys (`own`) are at hand (the warm path's too)."""
    signer = access.verify([*access.instance, *own])
    if signer is None and (access.required or own):
        raise MissingSignature("This URL must be signed.")
    if image is None:
        raise ImageNotFound("No image has this id.")
    return Opened(image, _decide(image, signer, access))


def _decide(image: Image, signer: ProxyKey | None, access: Access) -> Principal | None:
    if signer is not None and signer.client_id == image.client_id:
        return Principal(client_id=image.client_id, via=Via.CLIENT_KEY, credential_id=f"proxy-key:{signer.id}")
    acting_for = signer.client_id if signer is not None else access.client_id
    if acting_for is not None and acting_for != image.client_id:
        raise ImageNotFound("No image has this id.")
    if not policy.can_view_image(ANONYMOUS, image):
        raise ImageNotFound("No image has this id.")
    return None


def settings_key(dialect: str, client_id: str | None, secret: dict[str, str], index: int = 0) -> ProxyKey:
    """An instance-wide key from the settings, as a candidate like the clients' own."""
    return ProxyKey(id=f"settings-{index}", client_id=client_id, dialect=dialect, secret=secret)


def open_remote(access: Access) -> tuple[str | None, Principal | None]:
    """Whom a URL of a remote original acts for, and its viewer: only the instance-wide keys sign such URLs (no
    client owns the original, so no client's own keys apply). MissingSignature when the dialect requires one."""
    signer = access.verify(list(access.instance))
    if signer is None and access.required:
        raise MissingSignature("This URL must be signed.")
    if signer is None or signer.client_id is None:
        return access.client_id, None
    return signer.client_id, Principal(
        client_id=signer.client_id, via=Via.CLIENT_KEY, credential_id=f"proxy-key:{signer.id}"
    )
