"""Per-image keys: a secret that opens one private image, made without storing anything.

The key is an HMAC-SHA256 of the image id under a key derived from the server secret, base64url without padding.
Nothing is stored, so no migration is needed, but a key cannot be rotated for one image: it is the same for the
image's whole life. Whoever once had it keeps access while the image is private; to cut them off, delete the image
(and upload it again: a new id, a new key). Rotating the server secret changes every image's key at once.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from pinhole.security.signing import derive_key

IMAGE_KEY_PURPOSE = "image-key/v1"
_MAX_KEY_LENGTH = 128


def _mac(secret: str, image_id: str) -> bytes:
    return hmac.digest(derive_key(secret, IMAGE_KEY_PURPOSE), image_id.encode(), "sha256")


def image_key(*, secret: str, image_id: str) -> str:
    """The key of this image (base64url, no padding): the same every time it is asked for."""
    return base64.urlsafe_b64encode(_mac(secret, image_id)).rstrip(b"=").decode()


def _decode(given: str) -> bytes | None:
    # Accept standard and URL-safe base64, with or without padding: a `+` that became a space in a query included.
    text = given.strip().replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def image_key_opens(*, secret: str, image_id: str, given: str | None) -> bool:
    """Whether `given` is this image's key (constant-time comparison)."""
    if not given or len(given) > _MAX_KEY_LENGTH:
        return False
    raw = _decode(given)
    return raw is not None and hmac.compare_digest(raw, _mac(secret, image_id))
