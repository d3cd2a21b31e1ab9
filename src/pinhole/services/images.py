"""Reading, changing and deleting images (tenant-scoped; authorization is asked of `security.policy`)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from pinhole.db.engine import Database
from pinhole.db.models import Image, ImageGroup, ImageTag, utcnow
from pinhole.errors import Forbidden, ImageNotFound
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import blobs
from pinhole.services.content import Content, swap_content
from pinhole.shared.versions import UNKNOWN, ImageVersions
from pinhole.storage.base import BlobStore


def _valid_id(image_id: str) -> bool:
    try:
        uuid.UUID(image_id)
    except ValueError:
        return False
    return True


@dataclass
class RecentImages:
    """Image rows the serving path looked up in the last `ttl` seconds, so a hot image costs no query.

    Changes made through this process forget the row at once. With `versions` (instances sharing a Redis) the
    serving path asks `revalidate` before using a cached row, which drops it when another instance changed the
    image since (see `pinhole.shared.versions`), so changes are seen everywhere at once; without, other processes
    see them within `ttl` (a CDN in front caches public images far longer). `ttl=0` turns the cache off.

    Kept in process with a version check rather than kept in Redis: a hit then costs one small `GET` and no
    deserialization, a row stays a live object the warm path can compare by identity, and the row itself never
    has to be serialized.
    """

    ttl: float
    limit: int = 50_000
    max_bytes: int = 32 * 1024 * 1024  # an estimate (`row_bytes`): rows with long descriptions weigh more
    clock: Callable[[], float] = time.monotonic
    versions: ImageVersions | None = None
    rows: OrderedDict[str, tuple[float, Image, object]] = field(default_factory=OrderedDict)
    bytes: int = 0
    _refreshing: set[str] = field(default_factory=set)

    def get(self, image_id: str) -> Image | None:
        """The cached row while fresh, or while one request reads it again (`refreshing`): under load every
        request for a hot image would otherwise miss at the same moment and each run the same query."""
        found = self.rows.get(image_id)
        if found is None or (found[0] < self.clock() and image_id not in self._refreshing):
            return None
        return found[1]

    @contextlib.contextmanager
    def refreshing(self, image_id: str) -> Iterator[None]:
        """While the caller reads the row again, others keep getting the expired one (at most one query long)."""
        self._refreshing.add(image_id)
        try:
            yield
        finally:
            self._refreshing.discard(image_id)

    def put(self, image: Image, version: object = UNKNOWN) -> None:
        """Cache `image`; `version` is what `current_version` answered before the row was read."""
        if self.ttl <= 0:
            return
        self._drop(image_id=image.id)
        self.rows[image.id] = (self.clock() + self.ttl, image, version)
        self.bytes += row_bytes(image)
        while self.rows and (len(self.rows) > self.limit or self.bytes > self.max_bytes):
            self._drop(image_id=next(iter(self.rows)))

    def forget(self, image_id: str) -> None:
        self._drop(image_id=image_id)

    def _drop(self, *, image_id: str) -> None:
        found = self.rows.pop(image_id, None)
        if found is not None:
            self.bytes -= row_bytes(found[1])

    async def revalidate(self, image_id: str) -> None:
        """Drop the cached row if another instance changed the image since it was read (no-op without Redis)."""
        found = self.rows.get(image_id)
        if self.versions is None or found is None or found[2] is UNKNOWN:
            return
        current = await self.versions.current(image_id)
        if current is not UNKNOWN and current != found[2]:  # unknown (Redis down): trusted for its ttl
            self._drop(image_id=image_id)

    async def current_version(self, image_id: str) -> object:
        if self.versions is None or self.ttl <= 0:
            return UNKNOWN
        return await self.versions.current(image_id)

    async def changed(self, *image_ids: str) -> None:
        """After a committed change: forget the rows here and tell the other instances."""
        for image_id in image_ids:
            self._drop(image_id=image_id)
        if self.versions is not None:
            await self.versions.bump(*image_ids)


ROW_OVERHEAD = 3072  # a loaded ORM row with its instance state: 2.7 kB with short texts (tracemalloc, 2,000 rows)


def row_bytes(image: Image) -> int:
    """What a cached row costs in memory, roughly: the fixed part plus its variable-length text."""
    texts = (image.description, image.original_name, image.placeholder_lqip, image.owner_id)
    return ROW_OVERHEAD + sum(len(text) for text in texts if text)


async def find_image_to_serve(*, db: Database, recent: RecentImages, image_id: str) -> Image | None:
    """`find_image` without tags, through the short-lived serving cache."""
    await recent.revalidate(image_id)
    image = recent.get(image_id)
    if image is None:
        with recent.refreshing(image_id):
            version = await recent.current_version(image_id)  # before the read: a change after it shows as stale
            image = await find_image(db=db, image_id=image_id, with_tags=False)
        if image is not None:
            recent.put(image, version)
        else:
            recent.forget(image_id)
    return image


async def find_image(*, db: Database, image_id: str, with_tags: bool = True) -> Image | None:
    """The image with this id, whoever owns it (callers must ask the policy before showing it).

    Serving bytes needs no tags: `with_tags=False` saves the hot path a second query.
    """
    if not _valid_id(image_id):
        return None
    async with db.reader() as session:
        return await session.get(Image, image_id, options=[] if with_tags else [raiseload(Image.tags)])


async def get_image_for(*, db: Database, principal: Principal, image_id: str) -> Image:
    """The image if the principal may read its metadata; NotFound otherwise (never reveals existence)."""
    image = await find_image(db=db, image_id=image_id)
    if image is None or not policy.can_read_image_info(principal, image):
        raise ImageNotFound()
    return image


@dataclass(frozen=True)
class ImageChanges:
    description: str | None = None
    tags: tuple[str, ...] | None = None
    is_private: bool | None = None
    clear_description: bool = False
    focal_point: tuple[float, float] | None = None  # fractions of width / height
    clear_focal_point: bool = False


async def update_image(
    *, db: Database, recent: RecentImages, principal: Principal, image_id: str, changes: ImageChanges
) -> Image:
    recent.forget(image_id)
    async with db.writer() as session:
        image = await modifiable(session, principal, image_id)
        if changes.clear_description or changes.description is not None:
            image.description = changes.description
        if changes.is_private is not None:
            image.is_private = changes.is_private
        if changes.tags is not None:
            _replace_tags(image, changes.tags)
        if changes.clear_focal_point or changes.focal_point is not None:
            image.focal_x, image.focal_y = changes.focal_point or (None, None)
        if session.is_modified(image):  # a change of tags only touches no column of the row: stamp it anyway
            image.updated_at = utcnow()
        await session.flush()
        await session.refresh(image)
    await recent.changed(image_id)
    return image


async def share_content(
    *, db: Database, recent: RecentImages, store: BlobStore, principal: Principal, image_id: str, source_id: str
) -> tuple[Image, list[str]]:
    """Make `image_id` show what `source_id` shows (both must be modifiable by the principal): the image keeps its
    id, owner, group, description and dates; its content (file, format, dimensions, size) becomes the source's.
    The old content's blob and variants go once nothing else refers to them.

    Returns the image and the keys of the files deleted (for `forget_blobs`).
    """
    recent.forget(image_id)
    async with db.writer() as session:
        image = await modifiable(session, principal, image_id)
        source = await modifiable(session, principal, source_id)
        await blobs.hold_blob(session, source.content_hash)
        old_hash = swap_content(image, Content.of_row(source))
        await session.flush()
        await session.refresh(image)
    recent.forget(image_id)
    if old_hash == image.content_hash:
        return image, []
    return image, await blobs.release_blobs(db=db, store=store, content_hashes=[old_hash])


async def point_record(
    *, db: Database, recent: RecentImages, principal: Principal, image_id: str, target_id: str
) -> Image:
    """userimages' update flow: the record `image_id` answers `target_id`'s url and key from now on (its own again
    when `target_id` is itself). Content never moves between images, so what each URL serves never changes."""
    recent.forget(image_id)
    async with db.writer() as session:
        image = await modifiable(session, principal, image_id)
        await modifiable(session, principal, target_id)
        image.url_image_id = None if target_id == image.id else target_id
        await session.flush()
        await session.refresh(image)
    return image


async def shown_as(*, db: Database, images: Sequence[Image]) -> dict[str, Image]:
    """For each record pointed at another image (`point_record`) that still exists, of the same client and owner:
    record id -> that image. A deleted target leaves the record answering its own url."""
    wanted = {image.url_image_id for image in images if image.url_image_id}
    if not wanted:
        return {}
    async with db.reader() as session:
        found = {target.id: target for target in await session.scalars(select(Image).where(Image.id.in_(wanted)))}
    shown = {}
    for image in images:
        target = found.get(image.url_image_id or "")
        if target is not None and (target.client_id, target.owner_id) == (image.client_id, image.owner_id):
            shown[image.id] = target
    return shown


def _replace_tags(image: Image, tags: tuple[str, ...]) -> None:
    # Diff rather than reassign: re-adding a tag must not insert a row whose key is still being deleted.
    wanted = list(dict.fromkeys(tags))
    image.tags = [t for t in image.tags if t.tag in wanted] + [
        ImageTag(tag=tag) for tag in wanted if tag not in image.tag_names
    ]


async def delete_image(
    *,
    db: Database,
    recent: RecentImages,
    store: BlobStore,
    principal: Principal,
    image_id: str,
    preserve_on_disk: bool = False,
    owner_may_preserve: bool = False,
) -> list[str]:
    """Delete the image (it leaves its albums and its group); its original and variants go too when no other image
    or avatar shares the content. `preserve_on_disk` keeps the original on disk for the operator's retention
    (`storage.preserved_retention_days`): admins only, or also the image's owner where the API allows it
    (`owner_may_preserve`, slink's document does).

    Returns the keys of the blobs deleted, for the caller to drop from in-process caches (`forget_blobs`).
    """
    recent.forget(image_id)
    async with db.writer() as session:
        image = await modifiable(session, principal, image_id)
        if preserve_on_disk and not (principal.is_admin or owner_may_preserve):
            raise Forbidden("Only admins may delete an image and keep its file (preserveOnDisk).")
        released = await remove_images(session, store, [image], preserve_on_disk=preserve_on_disk)
    await recent.changed(image_id)
    return released


async def remove_images(
    session: AsyncSession, store: BlobStore, images: list[Image], *, preserve_on_disk: bool = False
) -> list[str]:
    """Inside a writer transaction: delete these images (authorized already), empty groups left behind, and every
    blob no longer referred to. Returns the keys of the files deleted."""
    hashes = [image.content_hash for image in images]
    groups = {image.group_id for image in images if image.group_id is not None}
    for image in images:
        await session.delete(image)
    await session.flush()
    await _drop_empty_groups(session, groups)
    released: list[str] = []
    for content_hash in dict.fromkeys(hashes):
        if preserve_on_disk:
            await blobs.preserve_blob(session, content_hash)
        released += await blobs.release_blob(session, store, content_hash)
    return released


async def _drop_empty_groups(session: AsyncSession, group_ids: set[str]) -> None:
    for group_id in group_ids:
        if not await session.scalar(select(exists().where(Image.group_id == group_id))):
            await session.execute(delete(ImageGroup).where(ImageGroup.id == group_id))


async def modifiable(session: AsyncSession, principal: Principal, image_id: str) -> Image:
    image = await session.get(Image, image_id) if _valid_id(image_id) else None
    if image is None or not policy.can_read_image_info(principal, image):
        raise ImageNotFound()
    if not policy.can_modify_image(principal, image):
        raise Forbidden("Only the image's owner may change it.")
    return image
