"""Cloudinary public ids: given at a Cloudinary-API upload, per client, each naming one image; and the API's
request signatures (SHA-1 of the sorted parameters + the API secret, hex), as the SDKs compute them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import delete, select

from pinhole.db.engine import Database
from pinhole.db.models import CloudinaryPublicId

UNSIGNED = frozenset({"file", "cloud_name", "resource_type", "api_key", "signature"})


def api_signature(params: Mapping[str, str], secret: str) -> str:
    signed = "&".join(f"{name}={params[name]}" for name in sorted(params) if name not in UNSIGNED and params[name])
    return hashlib.sha1((signed + secret).encode(), usedforsecurity=False).hexdigest()


async def image_for(db: Database, *, client_id: str, public_id: str) -> str | None:
    async with db.reader() as session:
        return await session.scalar(
            select(CloudinaryPublicId.image_id).where(
                CloudinaryPublicId.client_id == client_id, CloudinaryPublicId.public_id == public_id
            )
        )


async def name(db: Database, *, client_id: str, public_id: str, image_id: str) -> None:
    """`public_id` names `image_id` from now on (an upload with the same public id replaces the name)."""
    async with db.writer() as session:
        await session.execute(
            delete(CloudinaryPublicId).where(
                CloudinaryPublicId.client_id == client_id, CloudinaryPublicId.public_id == public_id
            )
        )
        session.add(CloudinaryPublicId(client_id=client_id, public_id=public_id, image_id=image_id))
