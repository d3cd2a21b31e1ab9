"""Ingesting an upload: the one function every API calls to turn a received file into an image.

Recipe: check the client's file-size limit, inspect and validate the bytes (format from content, limits before
decoding), normalise (strip metadata, apply orientation), then in one transaction check the storage quotas, store
the original once per content hash and record the image. Either all of it happens or nothing does: no row and no
orphan file is left behind on any failure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Blob, Image, ImageTag
from pinhole.imaging.ingest import PreparedOriginal, prepare_original
from pinhole.imaging.inspect import ImageLimits
from pinhole.services import quotas
from pinhole.services.quotas import QuotaDefaults
from pinhole.storage.base import BlobStore
from pinhole.storage.keys import original_key


@dataclass(frozen=True)
class IngestPolicy:
    limits: ImageLimits
    strip_metadata: bool
    work_dir: Path
    quotas: QuotaDefaults
    accepted_formats: frozenset[str] | None = None


@dataclass(frozen=True)
class NewImage:
    """What an API received: the file already streamed to a temp path, and the metadata fields."""

    path: Path
    sha256: str
    client_id: str
    owner_id: str | None = None
    original_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    is_private: bool = False


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def ingest_image(
    *, db: Database, store: BlobStore, pool: WorkerPool, policy: IngestPolicy, upload: NewImage
) -> Image:
    # Upload APIs stop reading past the limit already; this holds it for every API and costs one query.
    limit = await quotas.file_size_limit(db=db, defaults=policy.quotas, client_id=upload.client_id)
    quotas.check_file_size((await anyio.Path(upload.path).stat()).st_size, limit=limit)
    prepared = await pool.run(
        prepare_original,
        upload.path,
        work_dir=policy.work_dir,
        limits=policy.limits,
        strip_metadata=policy.strip_metadata,
        accepted=policy.accepted_formats,
    )
    try:
        same_bytes = prepared.path == upload.path
        content_hash = upload.sha256 if same_bytes else await pool.run(_sha256_file, prepared.path)
        return await _store_and_record(
            db=db, store=store, policy=policy, upload=upload, prepared=prepared, content_hash=content_hash
        )
    finally:
        if prepared.path != upload.path:
            prepared.path.unlink(missing_ok=True)


async def _store_and_record(
    *,
    db: Database,
    store: BlobStore,
    policy: IngestPolicy,
    upload: NewImage,
    prepared: PreparedOriginal,
    content_hash: str,
) -> Image:
    key = original_key(content_hash)
    wrote_new_blob = False
    try:
        async with db.writer() as session:
            # First, before any blob row is claimed: a refused upload changes nothing.
            await quotas.check_upload(
                session=session,
                defaults=policy.quotas,
                client_id=upload.client_id,
                owner_id=upload.owner_id,
                size=prepared.size,
            )
            created = await _claim_blob(db, session, content_hash=content_hash, key=key, size=prepared.size)
            if created or await store.stat(key) != prepared.size:
                await store.put_file(key, prepared.path, move=True)
                wrote_new_blob = created
            image = _new_image_row(upload, prepared, content_hash)
            session.add(image)
            await session.flush()
        return image
    except BaseException:
        if wrote_new_blob:  # the blob row rolled back with the image: its file must go too
            await store.delete(key)
        raise


async def _claim_blob(db: Database, session: AsyncSession, *, content_hash: str, key: str, size: int) -> bool:
    """Insert the blob row, or lock the existing one so a concurrent delete waits for us. True if inserted."""
    stmt = (
        db.insert(Blob)
        .values(content_hash=content_hash, key=key, size=size)
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(Blob.content_hash)
    )
    if await session.scalar(stmt) is not None:
        return True
    await session.execute(select(Blob.content_hash).where(Blob.content_hash == content_hash).with_for_update())
    return False


def _new_image_row(upload: NewImage, prepared: PreparedOriginal, content_hash: str) -> Image:
    return Image(
        client_id=upload.client_id,
        owner_id=upload.owner_id,
        content_hash=content_hash,
        original_name=upload.original_name,
        description=upload.description,
        is_private=upload.is_private,
        mime_type=prepared.format.mime,
        format=prepared.format.name,
        width=prepared.width,
        height=prepared.height,
        frames=prepared.frames,
        size=prepared.size,
        tags=[ImageTag(tag=tag) for tag in upload.tags],
    )
