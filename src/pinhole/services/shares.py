"""Share links: unguessable, optionally expiring, revocable tokens that open one image.

`token_opens` also accepts an album token (`services.album_tokens`): it opens the images in its album.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pinhole.db.engine import Database
from pinhole.db.models import Image, ShareLink, utcnow
from pinhole.errors import Forbidden, ImageNotFound, InvalidInput, NotFound
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.security.secrets import hash_token, new_token
from pinhole.services import album_tokens
from pinhole.services.images import find_image

SHARE_PREFIX = "shr_"
MAX_EXPIRY = timedelta(days=3650)


@dataclass(frozen=True)
class NewShare:
    token: str  # shown once; only its hash is stored
    link: ShareLink


async def create_share(
    *, db: Database, principal: Principal, image_id: str, expires_in: timedelta | None = None
) -> NewShare:
    if expires_in is not None and not timedelta(seconds=1) <= expires_in <= MAX_EXPIRY:
        raise InvalidInput("expiresIn must be between 1 second and 10 years.", field="expiresIn")
    image = await find_image(db=db, image_id=image_id)
    if image is None or not policy.can_read_image_info(principal, image):
        raise ImageNotFound()
    if not policy.can_share_image(principal, image):
        raise Forbidden("Only the image's owner may share it.")
    token = new_token(SHARE_PREFIX, 24)
    expires_at = utcnow() + expires_in if expires_in is not None else None
    link = ShareLink(token_hash=hash_token(token), image_id=image.id, expires_at=expires_at)
    async with db.writer() as session:
        session.add(link)
    return NewShare(token=token, link=link)


async def resolve_share(*, db: Database, token: str, now: datetime | None = None) -> Image | None:
    """The image a live token opens, or None (unknown, revoked and expired tokens look the same)."""
    if not token.startswith(SHARE_PREFIX) or len(token) > 100:
        return None
    async with db.reader() as session:
        row = await session.execute(
            select(ShareLink, Image)
            .join(Image, Image.id == ShareLink.image_id)
            .where(ShareLink.token_hash == hash_token(token))
        )
        found = row.first()
    if found is None:
        return None
    link, image = found
    if link.revoked_at is not None or (link.expires_at is not None and link.expires_at <= (now or utcnow())):
        return None
    return image


async def token_opens(*, db: Database, token: str | None, image_id: str) -> bool:
    """Whether `token` (a share link's, or an album token whose album holds the image) opens this image."""
    if not token:
        return False
    if album_tokens.is_album_token(token):
        return await album_tokens.token_opens_image(db=db, token=token, image_id=image_id)
    image = await resolve_share(db=db, token=token)
    return image is not None and image.id == image_id


async def revoke_share(*, db: Database, principal: Principal, image_id: str, token: str) -> None:
    await revoke_share_link(db=db, principal=principal, image_id=image_id, link_id=hash_token(token))


async def revoke_share_link(*, db: Database, principal: Principal, image_id: str, link_id: str) -> None:
    """Revoke a link by its id (the stored hash of its token, which is all that is left once the token was shown)."""
    async with db.writer() as session:
        link = await session.get(ShareLink, link_id)
        image = await session.get(Image, link.image_id) if link is not None else None
        if link is None or image is None or image.id != image_id or not policy.can_share_image(principal, image):
            raise NotFound("Share link not found.")
        if link.revoked_at is None:
            link.revoked_at = utcnow()


async def list_shares(*, db: Database, principal: Principal, image_id: str) -> list[ShareLink]:
    """The image's live (unrevoked, unexpired) links, newest first; only for whoever may share the image."""
    image = await find_image(db=db, image_id=image_id)
    if image is None or not policy.can_share_image(principal, image):
        raise ImageNotFound()
    now = utcnow()
    async with db.reader() as session:
        rows = await session.scalars(
            select(ShareLink)
            .where(ShareLink.image_id == image.id, ShareLink.revoked_at.is_(None))
            .order_by(ShareLink.created_at.desc())
        )
        return [row for row in rows if row.expires_at is None or row.expires_at > now]
