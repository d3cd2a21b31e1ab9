"""Signed transform URLs for the people who may transform an image freely: its owner and admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pinhole.db.engine import Database
from pinhole.errors import Forbidden, ImageNotFound, InvalidInput
from pinhole.imaging.options import TransformOptions
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.security.signing import UrlSigner
from pinhole.services.images import find_image

DAY = 86_400


@dataclass(frozen=True)
class SignedTransform:
    image_id: str
    params: dict[str, str]  # `sig`, and `exp` when it expires
    expires_at: datetime | None


def sign_transform(
    *, signer: UrlSigner, image_id: str, options: TransformOptions, expires_in: int | None
) -> SignedTransform:
    """Sign one transform of one image, valid for `expires_in` seconds (None: for good)."""
    expires_at = None if expires_in is None else int(signer.clock()) + expires_in
    return SignedTransform(
        image_id=image_id,
        params=signer.sign(image_id, options, expires_at=expires_at),
        expires_at=None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
    )


async def sign_for(
    *,
    db: Database,
    signer: UrlSigner,
    principal: Principal,
    image_id: str,
    options: TransformOptions,
    expires_in: int | None,
    max_expiry_days: int,
) -> SignedTransform:
    """What the API hands out: only to whoever may transform the image freely, never for longer than the limit.

    Without `expires_in` the URL lasts the longest the limit allows, so no API caller gets a URL that never expires.
    """
    longest = max_expiry_days * DAY
    if expires_in is not None and not 1 <= expires_in <= longest:
        raise InvalidInput(f"expiresIn must be between 1 and {longest} seconds.", field="expiresIn")
    image = await find_image(db=db, image_id=image_id, with_tags=False)
    if image is None or not policy.can_read_image_info(principal, image):
        raise ImageNotFound()
    if not policy.can_transform_freely(principal, image):
        raise Forbidden("Only the image's owner may sign URLs for it.")
    return sign_transform(signer=signer, image_id=image.id, options=options, expires_in=expires_in or longest)
