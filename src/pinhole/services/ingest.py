"""Ingesting an upload: the one function every API calls to turn a received file into an image.

Recipe: check the client's file-size limit, inspect and validate the bytes (format from content, limits before
decoding), normalise (strip metadata, apply orientation), then in one transaction check the storage quotas, store
the original once per content hash and record the image (and its album link, if any). Several files of one request
go through the same steps and are recorded together, in one group. Either all of it happens or nothing does: no row
and no orphan file is left behind on any failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Image, ImageGroup, ImageTag
from pinhole.errors import PinholeError
from pinhole.imaging.ingest import PreparedOriginal, prepare_original
from pinhole.imaging.inspect import ImageLimits
from pinhole.imaging.photo_details import NO_DETAILS, PhotoDetails, read_photo_details
from pinhole.observability.telemetry import record_refused_upload, record_uploads
from pinhole.services import account_choices, albums, blobs, placeholders, quotas
from pinhole.services.content import Content
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
    placeholders: bool = False
    dialect_extra_formats: frozenset[str] = frozenset()

    def accepting_only(self, formats: frozenset[str]) -> IngestPolicy:
        """This policy narrowed to `formats` (an API whose document takes fewer formats than the server does),
        widened by `uploads.dialect_extra_formats`."""
        formats = formats | self.dialect_extra_formats
        accepted = formats & self.accepted_formats if self.accepted_formats is not None else formats
        return dataclasses.replace(self, accepted_formats=accepted)


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
    album_id: str | None = None  # checked by the caller (`albums.album_for_upload`); linked in the same transaction


@dataclass(frozen=True)
class Ingested:
    """What an upload made: its images, in the order received, and their group when there were several."""

    images: list[Image]
    group_id: str | None = None


@dataclass(frozen=True)
class Prepared:
    """One received file, validated and normalised, with the hash of the bytes that will be stored."""

    source: Path
    original: PreparedOriginal
    content_hash: str
    details: PhotoDetails = NO_DETAILS

    @property
    def key(self) -> str:
        return original_key(self.content_hash)

    def content(self) -> Content:
        """What a row (image or avatar) pointing at this file shows of it."""
        original = self.original
        return Content(
            content_hash=self.content_hash,
            mime_type=original.format.mime,
            format=original.format.name,
            width=original.width,
            height=original.height,
            frames=original.frames,
            size=original.size,
        )

    def discard(self) -> None:
        """Delete the normalised copy (the received file is its receiver's to clean up)."""
        if self.original.path != self.source:
            self.original.path.unlink(missing_ok=True)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def ingest_image(
    *, db: Database, store: BlobStore, pool: WorkerPool, policy: IngestPolicy, upload: NewImage
) -> Image:
    ingested = await ingest_images(db=db, store=store, pool=pool, policy=policy, uploads=[upload])
    return ingested.images[0]


async def ingest_images(
    *,
    db: Database,
    store: BlobStore,
    pool: WorkerPool,
    policy: IngestPolicy,
    uploads: Sequence[NewImage],
    limit: int | None = None,
) -> Ingested:
    """Ingest the files of one request, all or nothing; several files make an `ImageGroup`.

    Every upload must have the same client and owner. An error about one of several files names it (`details`:
    `file`, its 0-based position, and `filename`). `limit` is the client's file-size limit when the caller has
    read it already (it received the files under it); else it is read here.
    """
    if not uploads or len({(u.client_id, u.owner_id) for u in uploads}) != 1:
        raise ValueError("one request's uploads share one client and owner")
    started = time.perf_counter()
    prepared: list[Prepared] = []
    written: list[str] = []
    try:
        if limit is None:
            limit = await quotas.file_size_limit(db=db, defaults=policy.quotas, client_id=uploads[0].client_id)
        for index, upload in enumerate(uploads):
            with _naming_file(index, upload, several=len(uploads) > 1):
                prepared.append(
                    await prepare_file(pool=pool, policy=policy, path=upload.path, sha256=upload.sha256, limit=limit)
                )
        ingested = await _store_and_record(
            db=db, store=store, policy=policy, uploads=uploads, prepared=prepared, written=written
        )
    except PinholeError as error:
        record_refused_upload(error.code, files=len(uploads), seconds=time.perf_counter() - started)
        raise
    finally:
        for item in prepared:
            item.discard()
    record_uploads(outcomes=_outcomes(prepared, written), seconds=time.perf_counter() - started)
    return ingested


def _outcomes(prepared: Sequence[Prepared], written: Sequence[str]) -> list[tuple[str, int]]:
    """Each file's outcome for metrics: `stored` when its content was new, else `deduplicated`."""
    new = set(written)
    outcomes = []
    for item in prepared:
        outcomes.append(("stored" if item.key in new else "deduplicated", item.original.size))
        new.discard(item.key)  # a second file of the same content in one request adds nothing
    return outcomes


@contextmanager
def _naming_file(index: int, upload: NewImage, *, several: bool) -> Iterator[None]:
    try:
        yield
    except PinholeError as error:
        if several:
            name = f" ({upload.original_name})" if upload.original_name else ""
            error.message = f"File {index + 1}{name}: {error.message}"
            error.details = {**error.details, "file": index, "filename": upload.original_name}
        raise


async def prepare_file(*, pool: WorkerPool, policy: IngestPolicy, path: Path, sha256: str, limit: int) -> Prepared:
    """Check the size limit, inspect and validate the bytes, normalise them and hash what will be stored."""
    quotas.check_file_size((await anyio.Path(path).stat()).st_size, limit=limit)
    original = await pool.run(
        prepare_original,
        path,
        work_dir=policy.work_dir,
        limits=policy.limits,
        strip_metadata=policy.strip_metadata,
        accepted=policy.accepted_formats,
        placeholders=policy.placeholders,
    )
    try:
        content_hash = sha256 if original.path == path else await pool.run(_sha256_file, original.path)
        # From the received file (the stored one may have lost its EXIF), whose header the check above proved.
        details = await pool.run(read_photo_details, path, format=original.format)
    except BaseException:
        if original.path != path:
            original.path.unlink(missing_ok=True)
        raise
    return Prepared(source=path, original=original, content_hash=content_hash, details=details)


async def store_originals(
    db: Database, session: AsyncSession, store: BlobStore, prepared: Sequence[Prepared], written: list[str]
) -> None:
    """Claim the blob of each distinct content and store its file when it is new (or missing).

    Keys of blobs this transaction created are appended to `written`: if the transaction fails, their files must
    be deleted by the caller (their rows rolled back).
    """
    for item in {p.content_hash: p for p in prepared}.values():
        created = await blobs.claim_blob(
            db, session, content_hash=item.content_hash, key=item.key, size=item.original.size
        )
        if created or await store.stat(item.key) != item.original.size:
            await store.put_file(item.key, item.original.path, move=True)
            if created:
                written.append(item.key)


async def _store_and_record(
    *,
    db: Database,
    store: BlobStore,
    policy: IngestPolicy,
    uploads: Sequence[NewImage],
    prepared: Sequence[Prepared],
    written: list[str],
) -> Ingested:
    first = uploads[0]
    try:
        async with db.writer() as session:
            # First, before any blob row is claimed: a refused upload changes nothing.
            await quotas.check_upload(
                session=session,
                defaults=policy.quotas,
                client_id=first.client_id,
                owner_id=first.owner_id,
                size=sum(item.original.size for item in prepared),
                images=len(prepared),
            )
            await store_originals(db, session, store, prepared, written)
            group_id = await _new_group(session, first) if len(uploads) > 1 else None
            keep_location = await account_choices.keeps_location(
                session, client_id=first.client_id, owner_id=first.owner_id
            )
            images = [_new_image_row(u, p, group_id, keep_location) for u, p in zip(uploads, prepared, strict=True)]
            session.add_all(images)
            await session.flush()
            for upload, image in zip(uploads, images, strict=True):
                if upload.album_id is not None:
                    await albums.attach_image(session, album_id=upload.album_id, image_id=image.id)
        return Ingested(images=images, group_id=group_id)
    except BaseException:
        for key in written:  # the blob rows rolled back with the images: their files must go too
            await store.delete(key)
        raise


async def _new_group(session: AsyncSession, upload: NewImage) -> str:
    group = ImageGroup(client_id=upload.client_id, owner_id=upload.owner_id)
    session.add(group)
    await session.flush()
    return group.id


def _new_image_row(upload: NewImage, prepared: Prepared, group_id: str | None, keep_location: bool) -> Image:
    return Image(
        client_id=upload.client_id,
        owner_id=upload.owner_id,
        original_name=upload.original_name,
        description=upload.description,
        is_private=upload.is_private,
        **dataclasses.asdict(prepared.content()),
        group_id=group_id,
        tags=[ImageTag(tag=tag) for tag in upload.tags],
        **placeholders.columns(prepared.original.placeholder),
        **prepared.details.columns(keep_location=keep_location),
    )
