"""Placeholders of stored images: their columns, and the backfill of images uploaded before they existed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Image
from pinhole.errors import BlobNotFound, PinholeError
from pinhole.imaging.formats import format_named
from pinhole.imaging.placeholder import Placeholder, compute_from_bytes
from pinhole.storage.base import BlobStore
from pinhole.storage.keys import original_key


def columns(placeholder: Placeholder | None) -> dict[str, str | None]:
    """The `Image` columns holding `placeholder` (all None without one)."""
    return {
        "placeholder_blurhash": placeholder.blurhash if placeholder else None,
        "placeholder_thumbhash": placeholder.thumbhash if placeholder else None,
        "placeholder_color": placeholder.color if placeholder else None,
        "placeholder_lqip": placeholder.lqip if placeholder else None,
    }


def of_image(image: Image) -> Placeholder | None:
    if not (image.placeholder_blurhash and image.placeholder_thumbhash and image.placeholder_color):
        return None
    return Placeholder(
        blurhash=image.placeholder_blurhash,
        thumbhash=image.placeholder_thumbhash,
        color=image.placeholder_color,
        lqip=image.placeholder_lqip or "",
    )


@dataclass
class BackfillResult:
    done: int = 0
    failed: int = 0


async def missing_count(db: Database) -> int:
    async with db.reader() as session:
        rows = await session.scalars(select(Image.id).where(Image.placeholder_blurhash.is_(None)))
        return len(rows.all())


async def backfill(
    *, db: Database, store: BlobStore, pool: WorkerPool, batch: int = 50, advance: Callable[[int], None]
) -> BackfillResult:
    """Compute the placeholders of every image without them, original by original (images sharing one original
    share its placeholder). Resumable: each batch is committed, and a rerun picks up the images still missing them;
    an original that cannot be read or decoded is counted as failed and skipped for this run.
    """
    result = BackfillResult()
    skipped: set[str] = set()
    while True:
        async with db.reader() as session:
            query = select(Image.content_hash, Image.format).where(Image.placeholder_blurhash.is_(None))
            if skipped:
                query = query.where(Image.content_hash.not_in(skipped))
            pending = (await session.execute(query.distinct().limit(batch))).all()
        if not pending:
            return result
        for content_hash, format_name in pending:
            placeholder = await _compute(store, pool, content_hash, format_name)
            if placeholder is None:
                skipped.add(content_hash)
                result.failed += 1
                continue
            async with db.writer() as session:
                changed = await session.execute(
                    update(Image)
                    .where(Image.content_hash == content_hash, Image.placeholder_blurhash.is_(None))
                    .values(**columns(placeholder))
                )
            count = int(getattr(changed, "rowcount", 0) or 0)
            result.done += count
            advance(count)


async def _compute(store: BlobStore, pool: WorkerPool, content_hash: str, format_name: str) -> Placeholder | None:
    fmt = format_named(format_name)
    if fmt is None:
        return None
    try:
        data = await store.get_bytes(original_key(content_hash))
        return await pool.run(compute_from_bytes, data, fmt=fmt)
    except (BlobNotFound, PinholeError):
        return None
