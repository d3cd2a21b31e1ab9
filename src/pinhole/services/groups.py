"""Upload groups: the images of one multi-file upload, read, renamed and deleted together (owned like images)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Image, ImageGroup
from pinhole.errors import NotFound
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.security.principal import Principal
from pinhole.services.images import RecentImages, remove_images
from pinhole.storage.base import BlobStore


class GroupNotFound(NotFound):
    code = "group_not_found"

    def __init__(self) -> None:
        super().__init__("Group not found.")


@dataclass(frozen=True)
class GroupChanges:
    name: str | None = None
    description: str | None = None
    clear_name: bool = False
    clear_description: bool = False


async def _group_for(session: AsyncSession, principal: Principal, group_id: str, action: Action) -> ImageGroup:
    try:
        uuid.UUID(group_id)
    except ValueError:
        raise GroupNotFound() from None
    group = await session.get(ImageGroup, group_id)
    # Groups are private to their owner (`ImageGroup.is_private`): whoever may not read one gets 404, never 403.
    if group is None or not policy.may(principal, Action.READ, group):
        raise GroupNotFound()
    policy.require(principal, action, group, hide=False)
    return group


async def _images_of(session: AsyncSession, group_id: str) -> Sequence[Image]:
    query = select(Image).where(Image.group_id == group_id).order_by(Image.created_at, Image.id)
    return (await session.scalars(query)).all()


async def get_group(*, db: Database, principal: Principal, group_id: str) -> tuple[ImageGroup, Sequence[Image]]:
    async with db.reader() as session:
        group = await _group_for(session, principal, group_id, Action.READ)
        return group, await _images_of(session, group.id)


async def update_group(
    *, db: Database, principal: Principal, group_id: str, changes: GroupChanges
) -> tuple[ImageGroup, Sequence[Image]]:
    async with db.writer() as session:
        group = await _group_for(session, principal, group_id, Action.UPDATE)
        if changes.clear_name or changes.name is not None:
            group.name = changes.name
        if changes.clear_description or changes.description is not None:
            group.description = changes.description
        await session.flush()
        await session.refresh(group)
        return group, await _images_of(session, group.id)


async def delete_group(
    *, db: Database, recent: RecentImages, store: BlobStore, principal: Principal, group_id: str
) -> list[str]:
    """Delete the group and its images (blobs no longer referred to go too). Returns the file keys deleted."""
    async with db.writer() as session:
        group = await _group_for(session, principal, group_id, Action.DELETE)
        images = list(await _images_of(session, group.id))
        for image in images:
            recent.forget(image.id)
        released = await remove_images(session, store, images)
        await session.execute(delete(ImageGroup).where(ImageGroup.id == group.id))  # when it had no images left
    await recent.changed(*(image.id for image in images))
    return released
