"""The image library: one object, built by the composition root, that owns what images and avatars are made of.

Routes call `Images` (ingest, find, update, delete) and `Avatars` (save, delete) and never assemble the database,
blob store, worker pool and caches themselves. Both keep this process's caches coherent after each change: the
recent records (`RecentImages`), the known variants and the hot byte cache (`forget_blobs`); the warm fast
path's memo checks those by identity, so it needs no upkeep of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Avatar, Image, ImageGroup
from pinhole.security.principal import Principal
from pinhole.services import avatars, groups, quotas, trash, uploaders
from pinhole.services import images as image_rows
from pinhole.services.avatars import AvatarSaved
from pinhole.services.images import ImageChanges, RecentImages
from pinhole.services.ingest import Ingested, IngestPolicy, NewImage, ingest_images
from pinhole.services.memory_cache import MemoryCache
from pinhole.services.quotas import QuotaDefaults
from pinhole.services.uploaders import UploadTarget
from pinhole.services.usage import UsageBuffer
from pinhole.services.variant_cache import forget_blobs
from pinhole.services.variants import VariantService
from pinhole.storage.base import BlobStore


@dataclass
class Images:
    db: Database
    store: BlobStore
    pool: WorkerPool
    policy: IngestPolicy
    recent: RecentImages
    variants: VariantService
    hot: MemoryCache
    usage: UsageBuffer
    max_files: int  # files one upload request may carry
    on_new_image: Callable[[Image], None] | None = None  # every ingested image (eager presets, `build_services`)

    @property
    def work_dir(self) -> Path:
        return self.policy.work_dir

    @property
    def quota_defaults(self) -> QuotaDefaults:
        """The server-wide quotas and file-size limit."""
        return self.policy.quotas

    def forget_blobs(self, keys: Collection[str]) -> None:
        """Drop this process's copies of files gone from the store."""
        forget_blobs(variants=self.variants, hot=self.hot, keys=keys)

    # --- uploads ---

    async def upload_target(self, principal: Principal) -> UploadTarget:
        return await uploaders.upload_target(db=self.db, principal=principal)

    async def file_size_limit(self, client_id: str) -> int:
        return await quotas.file_size_limit(db=self.db, defaults=self.policy.quotas, client_id=client_id)

    async def ingest(
        self, uploads: Sequence[NewImage], *, limit: int | None, accepted: frozenset[str] | None = None
    ) -> Ingested:
        """Store the received files as images. `limit`: the file-size limit they were received under (None: the
        client's, read now); `accepted`: the formats an API's document takes, when fewer than the server's."""
        policy = self.policy if accepted is None else self.policy.accepting_only(accepted)
        ingested = await ingest_images(
            db=self.db, store=self.store, pool=self.pool, policy=policy, uploads=uploads, limit=limit
        )
        if self.on_new_image is not None:
            for image in ingested.images:
                self.on_new_image(image)
        return ingested

    # --- reading ---

    async def find(self, image_id: str, *, with_tags: bool = True) -> Image | None:
        """Whoever owns it: ask the policy before showing it."""
        return await image_rows.find_image(db=self.db, image_id=image_id, with_tags=with_tags)

    async def find_to_serve(self, image_id: str) -> Image | None:
        """`find` without tags, through the short-lived record cache."""
        return await image_rows.find_image_to_serve(db=self.db, recent=self.recent, image_id=image_id)

    async def get_for(self, principal: Principal, image_id: str) -> Image:
        """The image if the principal may read its metadata, else `ImageNotFound`."""
        return await image_rows.get_image_for(db=self.db, principal=principal, image_id=image_id)

    async def views(self, image: Image) -> int:
        """Counted views, with those not yet written."""
        return image.view_count + await self.usage.pending_views(image.id)

    # --- changing ---

    async def update(self, principal: Principal, image_id: str, changes: ImageChanges) -> Image:
        return await image_rows.update_image(
            db=self.db, recent=self.recent, principal=principal, image_id=image_id, changes=changes
        )

    async def share_content(self, principal: Principal, image_id: str, *, source_id: str) -> Image:
        image, released = await image_rows.share_content(
            db=self.db,
            recent=self.recent,
            store=self.store,
            principal=principal,
            image_id=image_id,
            source_id=source_id,
        )
        self.forget_blobs(released)
        return image

    async def point_record(self, principal: Principal, image_id: str, *, target_id: str) -> Image:
        """userimages: the record answers `target_id`'s url and key from now on (`images.point_record`)."""
        return await image_rows.point_record(
            db=self.db, recent=self.recent, principal=principal, image_id=image_id, target_id=target_id
        )

    async def shown_as(self, images: Sequence[Image]) -> dict[str, Image]:
        return await image_rows.shown_as(db=self.db, images=images)

    async def delete(
        self, principal: Principal, image_id: str, *, preserve_on_disk: bool = False, owner_may_preserve: bool = False
    ) -> None:
        released = await image_rows.delete_image(
            db=self.db,
            recent=self.recent,
            store=self.store,
            principal=principal,
            image_id=image_id,
            preserve_on_disk=preserve_on_disk,
            owner_may_preserve=owner_may_preserve,
        )
        self.forget_blobs(released)

    async def trash(self, principal: Principal, image_ids: Sequence[str], *, days: int) -> None:
        """Move the images to the trash for `days` (0: delete them for good), all or nothing (`services.trash`)."""
        for image_id in image_ids:
            self.recent.forget(image_id)
        async with self.db.writer() as session:
            found = [await image_rows.modifiable(session, principal, image_id) for image_id in image_ids]
            released = await trash.trash_images(session, self.store, found, days=days)
        await self.recent.changed(*image_ids)
        self.forget_blobs(released)

    async def restore(self, principal: Principal, image_ids: Sequence[str]) -> list[str]:
        restored = await trash.restore_images(
            db=self.db, defaults=self.policy.quotas, principal=principal, image_ids=image_ids
        )
        await self.recent.changed(*restored)
        return restored

    async def delete_from_trash(self, principal: Principal, image_ids: Sequence[str]) -> None:
        self.forget_blobs(
            await trash.delete_for_good(db=self.db, store=self.store, principal=principal, image_ids=image_ids)
        )

    async def get_group(self, principal: Principal, group_id: str) -> tuple[ImageGroup, Sequence[Image]]:
        return await groups.get_group(db=self.db, principal=principal, group_id=group_id)

    async def update_group(
        self, principal: Principal, group_id: str, changes: groups.GroupChanges
    ) -> tuple[ImageGroup, Sequence[Image]]:
        return await groups.update_group(db=self.db, principal=principal, group_id=group_id, changes=changes)

    async def delete_group(self, principal: Principal, group_id: str) -> None:
        released = await groups.delete_group(
            db=self.db, recent=self.recent, store=self.store, principal=principal, group_id=group_id
        )
        self.forget_blobs(released)


@dataclass
class Avatars:
    images: Images
    on_new_avatar: Callable[[Avatar], None] | None = None  # every saved avatar (eager presets, `build_services`)

    async def save(self, *, client_id: str, owner_id: str, path: Path, sha256: str, limit: int | None) -> AvatarSaved:
        """Set or replace the avatar of (client, user) with a file received under `limit` (None: read it now)."""
        parts = self.images
        saved = await avatars.save_avatar(
            db=parts.db,
            store=parts.store,
            pool=parts.pool,
            policy=parts.policy,
            client_id=client_id,
            owner_id=owner_id,
            path=path,
            sha256=sha256,
            limit=limit,
        )
        parts.forget_blobs(saved.released)
        if self.on_new_avatar is not None:
            self.on_new_avatar(saved.avatar)
        return saved

    async def delete(self, principal: Principal, external_user_id: str) -> None:
        parts = self.images
        released = await avatars.delete_avatar(
            db=parts.db, store=parts.store, principal=principal, external_user_id=external_user_id
        )
        parts.forget_blobs(released)

    async def delete_by_id(self, principal: Principal, avatar_id: str) -> None:
        parts = self.images
        released = await avatars.delete_avatar_by_id(
            db=parts.db, store=parts.store, principal=principal, avatar_id=avatar_id
        )
        parts.forget_blobs(released)
