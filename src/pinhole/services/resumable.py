"""Resumable uploads (tus): their state in the database, their bytes in the blob store, their end in the ingest.

Recipe. Creating checks the size limit and quotas against the announced length and records a row. Each PATCH
streams its body to a temp file (checking its checksum, if sent), stores it as one piece
(`pinhole.storage.partial`) and records it with one conditional UPDATE (`received` must still be the offset the
PATCH started at): a PATCH that lost a race removes its piece and gets 409. A PATCH cut off mid-way keeps the bytes
that arrived (unless a checksum was sent, which they cannot match), so the client resumes from there. The request
that brings the last byte puts the pieces together and hands the file to the same ingest as any upload, then
records the image's id on the row. Abandoned uploads expire; `sweep_once` deletes expired rows with their pieces,
and pieces whose row is gone. Any instance sharing the database and blob store can continue any upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import anyio
from sqlalchemy import delete, select, update
from starlette.requests import ClientDisconnect

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Image, ResumableUpload, utcnow
from pinhole.errors import ChecksumMismatch, InvalidInput, NotFound, OffsetMismatch, PinholeError, UploadGone
from pinhole.services import quotas
from pinhole.services.ingest import IngestPolicy, NewImage, ingest_image
from pinhole.services.uploaders import UploadTarget
from pinhole.storage.base import BlobStore
from pinhole.storage.partial import PartialUploads
from pinhole.uploads.tus import Checksum

log = logging.getLogger(__name__)

MAX_PIECES = 2000  # PATCHes one upload may take (each is a blob-store object until the upload completes)
SWEEP_BATCH = 200
FINISH_LEASE = timedelta(minutes=10)  # longer than any ingest; a lapsed lease means its instance stopped


@dataclass(frozen=True)
class UploadFields:
    """The metadata an upload's image gets (what a v2 upload takes as form fields), checked at creation."""

    filename: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    is_private: bool = False
    album_id: str | None = None


@dataclass(frozen=True)
class UploadState:
    id: str
    length: int
    received: int
    expires_at: datetime
    metadata_header: str | None
    image_id: str | None

    @property
    def complete(self) -> bool:
        return self.received == self.length


@dataclass(frozen=True)
class SweepResult:
    expired: int = 0  # rows deleted
    orphans: int = 0  # uploads whose pieces had no row any more
    pieces: int = 0  # blob-store objects deleted


def _state(row: ResumableUpload) -> UploadState:
    return UploadState(
        id=row.id,
        length=row.length,
        received=row.received,
        expires_at=row.expires_at,
        metadata_header=row.metadata_header,
        image_id=row.image_id,
    )


@dataclass(frozen=True)
class Received:
    path: Path
    size: int


@dataclass
class ResumableUploads:
    db: Database
    store: BlobStore
    pool: WorkerPool
    policy: IngestPolicy
    tmp_dir: Path
    expiry: timedelta
    interval: float = 0.0  # seconds between background sweeps; 0: none
    clock: Callable[[], datetime] = utcnow
    sweeps: int = 0  # background sweeps finished, failed ones included (how tests follow the task)
    on_new_image: Callable[[Image], None] | None = None  # every finished upload's image (eager presets)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pieces(self) -> PartialUploads:
        return PartialUploads(self.store)

    async def max_size(self, client_id: str | None) -> int:
        if client_id is None:
            return self.policy.quotas.max_file_bytes
        return await quotas.file_size_limit(db=self.db, defaults=self.policy.quotas, client_id=client_id)

    async def create(
        self, *, target: UploadTarget, length: int, fields: UploadFields, metadata_header: str | None
    ) -> UploadState:
        """Record a new upload of `length` bytes; refused at once when it could never be accepted."""
        quotas.check_file_size(length, limit=await self.max_size(target.client_id), field="Upload-Length")
        if length == 0:
            raise InvalidInput("An empty file is not an image.", field="Upload-Length")
        target.check(is_private=fields.is_private)
        row = ResumableUpload(
            id=secrets.token_hex(16),
            client_id=target.client_id,
            owner_id=target.owner_id,
            length=length,
            received=0,
            pieces="[]",
            fields=json.dumps(asdict(fields)),
            metadata_header=metadata_header,
            created_at=self.clock(),
            expires_at=self.clock() + self.expiry,
        )
        async with self.db.writer() as session:
            await quotas.check_upload(
                session=session,
                defaults=self.policy.quotas,
                client_id=target.client_id,
                owner_id=target.owner_id,
                size=length,
            )
            session.add(row)
        return _state(row)

    async def find(self, upload_id: str, target: UploadTarget) -> UploadState:
        """The upload's state; a complete one that was never made an image (its instance stopped) is made one now."""
        row = await self._owned(upload_id, target)
        state = _state(row)
        if state.complete and state.image_id is None:
            return await self._finish(row, state, json.loads(row.pieces))
        return state

    async def append(
        self,
        upload_id: str,
        target: UploadTarget,
        *,
        offset: int,
        body: AsyncIterator[bytes],
        checksum: Checksum | None,
    ) -> UploadState:
        """Receive the bytes of one PATCH starting at `offset`; the last byte makes the image (`image_id`)."""
        row = await self._owned(upload_id, target)
        if offset != row.received or row.image_id is not None:
            raise OffsetMismatch(
                f"Upload-Offset must be {row.received}, the bytes received so far.",
                field="Upload-Offset",
                details={"offset": row.received},
            )
        pieces: list[str] = json.loads(row.pieces)
        if len(pieces) >= MAX_PIECES:
            raise InvalidInput(f"An upload may be sent in at most {MAX_PIECES} pieces.", field="Upload-Offset")
        received = await self._receive(body, limit=row.length - row.received, checksum=checksum)
        with anyio.CancelScope(shield=True):  # bytes that arrived are kept even when the client went away
            state = await self._record(row, pieces, received)
        if state.complete:  # even if the client went away right after its last byte: the file is whole
            return await self._finish(row, state, pieces)
        return state

    async def terminate(self, upload_id: str, target: UploadTarget) -> None:
        await self._owned(upload_id, target, expired_ok=True)
        await self._remove(upload_id)

    async def image_of(self, state: UploadState) -> Image | None:
        if state.image_id is None:
            return None
        async with self.db.reader() as session:
            return await session.get(Image, state.image_id)

    # The expiry sweep ------------------------------------------------------------------------------------------

    async def sweep_once(self) -> SweepResult:
        """Delete expired uploads (rows and pieces), and pieces whose upload has no row any more."""
        now = self.clock()
        async with self.db.reader() as session:
            expired = list(
                await session.scalars(
                    select(ResumableUpload.id).where(ResumableUpload.expires_at < now).limit(SWEEP_BATCH)
                )
            )
        rows = pieces = 0
        for upload_id in expired:
            async with self.db.writer() as session:
                gone = await session.execute(
                    delete(ResumableUpload).where(ResumableUpload.id == upload_id, ResumableUpload.expires_at < now)
                )
            if gone.rowcount:  # type: ignore[attr-defined]  # this sweep deleted it (not another instance's)
                rows += 1
                pieces += await self.pieces.discard(upload_id)
        orphans = 0
        async for upload_id in self.pieces.upload_ids():
            async with self.db.reader() as session:
                known = await session.get(ResumableUpload, upload_id)
            if known is None:
                orphans += 1
                pieces += await self.pieces.discard(upload_id)
        return SweepResult(expired=rows, orphans=orphans, pieces=pieces)

    async def run(self) -> None:
        """Sweep every `interval` seconds until `stop()`; a failed sweep is logged and retried at the next one."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
                return
            try:
                result = await self.sweep_once()
                if result.expired or result.orphans:
                    log.info("removed %d expired and %d orphaned resumable uploads", result.expired, result.orphans)
            except Exception:
                log.exception("sweeping resumable uploads failed; trying again in %s s", self.interval)
            self.sweeps += 1

    def stop(self) -> None:
        self._stopping.set()

    # Internals ------------------------------------------------------------------------------------------------

    async def _owned(self, upload_id: str, target: UploadTarget, *, expired_ok: bool = False) -> ResumableUpload:
        async with self.db.reader() as session:
            row = await session.get(ResumableUpload, upload_id) if len(upload_id) == 32 else None
        if row is None or (row.client_id, row.owner_id) != (target.client_id, target.owner_id):
            raise NotFound("Upload not found.")
        if row.expires_at <= self.clock() and not expired_ok:
            raise UploadGone("This upload expired; start a new one.")
        return row

    async def _receive(self, body: AsyncIterator[bytes], *, limit: int, checksum: Checksum | None) -> Received:
        path = self.tmp_dir / f"tus-{secrets.token_hex(16)}.part"
        hasher = checksum.hasher() if checksum is not None else None
        size, interrupted = 0, False
        try:
            async with await anyio.open_file(path, "xb") as out:
                try:
                    async for chunk in body:
                        size += len(chunk)
                        if size > limit:
                            raise InvalidInput(
                                f"More bytes than Upload-Length: at most {limit} more were expected.",
                                field="Upload-Offset",
                            )
                        if hasher is not None:
                            hasher.update(chunk)
                        await out.write(chunk)
                except ClientDisconnect:
                    interrupted = True
            if checksum is not None and (interrupted or hasher is None or hasher.digest() != checksum.digest):
                raise ChecksumMismatch("The bytes do not match Upload-Checksum; nothing was kept.")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Received(path=path, size=size)

    async def _record(self, row: ResumableUpload, pieces: list[str], received: Received) -> UploadState:
        """Store the piece and move `received` on, unless another request did first (then 409, piece removed)."""
        if received.size == 0:
            received.path.unlink(missing_ok=True)
            return _state(row)
        try:
            name = await self.pieces.add_piece(row.id, row.received, received.path)
        finally:
            received.path.unlink(missing_ok=True)
        now = self.clock()
        values = {
            "received": row.received + received.size,
            "pieces": json.dumps([*pieces, name]),
            "expires_at": now + self.expiry,
        }
        async with self.db.writer() as session:
            done = await session.execute(
                update(ResumableUpload)
                .where(
                    ResumableUpload.id == row.id,
                    ResumableUpload.received == row.received,
                    ResumableUpload.image_id.is_(None),
                    ResumableUpload.expires_at > now,
                )
                .values(**values)
            )
        if not done.rowcount:  # type: ignore[attr-defined]
            await self.pieces.drop_piece(row.id, name)
            raise OffsetMismatch("Another request sent these bytes first; ask for the offset (HEAD).")
        pieces.append(name)
        return UploadState(
            id=row.id,
            length=row.length,
            received=values["received"],  # type: ignore[arg-type]
            expires_at=values["expires_at"],  # type: ignore[arg-type]
            metadata_header=row.metadata_header,
            image_id=None,
        )

    async def _finish(self, row: ResumableUpload, state: UploadState, pieces: list[str]) -> UploadState:
        """The last byte is in: ingest the whole file like any upload, then record the image's id.

        One request at a time holds the lease to do it; any other answers the state as it is (no image yet).
        """
        if not await self._claim(row.id):
            return state
        try:
            return await self._ingest(row, state, pieces)
        except PinholeError:
            raise
        except BaseException:
            with anyio.CancelScope(shield=True):  # not the file's fault: let the next request try again
                async with self.db.writer() as session:
                    await session.execute(
                        update(ResumableUpload).where(ResumableUpload.id == row.id).values(finishing_until=None)
                    )
            raise

    async def _claim(self, upload_id: str) -> bool:
        now = self.clock()
        async with self.db.writer() as session:
            claimed = await session.execute(
                update(ResumableUpload)
                .where(
                    ResumableUpload.id == upload_id,
                    ResumableUpload.image_id.is_(None),
                    ResumableUpload.received == ResumableUpload.length,
                    (ResumableUpload.finishing_until.is_(None)) | (ResumableUpload.finishing_until < now),
                )
                .values(finishing_until=now + FINISH_LEASE)
            )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]

    async def _ingest(self, row: ResumableUpload, state: UploadState, pieces: list[str]) -> UploadState:
        fields = UploadFields(**json.loads(row.fields))
        dest = self.tmp_dir / f"tus-{row.id}-{secrets.token_hex(8)}.whole"
        try:
            assembled = await self.pieces.assemble(row.id, pieces, dest)
            if assembled.size != row.length:
                log.error("resumable upload %s: %d bytes assembled of %d", row.id, assembled.size, row.length)
                raise InvalidInput("The upload's bytes could not be put together; send it again.")
            image = await ingest_image(
                db=self.db,
                store=self.store,
                pool=self.pool,
                policy=self.policy,
                upload=NewImage(
                    path=dest,
                    sha256=assembled.sha256,
                    client_id=row.client_id,
                    owner_id=row.owner_id,
                    original_name=fields.filename,
                    description=fields.description,
                    tags=tuple(fields.tags),
                    is_private=fields.is_private,
                    album_id=fields.album_id,
                ),
            )
        except PinholeError:
            await self._remove(row.id)  # not an image, or over a quota: the upload is over
            raise
        finally:
            dest.unlink(missing_ok=True)
        expires_at = self.clock() + self.expiry
        async with self.db.writer() as session:
            await session.execute(
                update(ResumableUpload)
                .where(ResumableUpload.id == row.id)
                .values(image_id=image.id, pieces="[]", expires_at=expires_at, finishing_until=None)
            )
        await self.pieces.discard(row.id)
        if self.on_new_image is not None:
            self.on_new_image(image)
        return UploadState(
            id=state.id,
            length=state.length,
            received=state.received,
            expires_at=expires_at,
            metadata_header=state.metadata_header,
            image_id=image.id,
        )

    async def _remove(self, upload_id: str) -> None:
        async with self.db.writer() as session:
            await session.execute(delete(ResumableUpload).where(ResumableUpload.id == upload_id))
        await self.pieces.discard(upload_id)
