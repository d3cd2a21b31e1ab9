"""Buffered usage counters: image views and variant last-access times.

Serving an image must not write to the database, so hits are counted in memory and flushed in one
transaction every few seconds (and at shutdown). A crash loses at most one interval of counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, update

from pinhole.db.engine import Database
from pinhole.db.models import Image, Variant, utcnow

log = logging.getLogger(__name__)


class UsageBuffer:
    def __init__(self, database: Database):
        self._db = database
        self._views: Counter[str] = Counter()
        self._variant_access: dict[int, datetime] = {}

    def record_view(self, image_id: str) -> None:
        self._views[image_id] += 1

    def record_variant_access(self, variant_id: int) -> None:
        self._variant_access[variant_id] = utcnow()

    def pending_views(self, image_id: str) -> int:
        return self._views.get(image_id, 0)

    async def flush(self) -> None:
        views, self._views = self._views, Counter()
        accessed, self._variant_access = self._variant_access, {}
        if not views and not accessed:
            return
        try:
            await self._write(views, accessed)
        except Exception:
            log.exception("could not write %d view counts; they are kept for the next flush", len(views))
            self._views.update(views)
            for key, when in accessed.items():
                self._variant_access.setdefault(key, when)

    async def _write(self, views: Counter[str], accessed: dict[int, datetime]) -> None:
        images, variants = cast(Table, Image.__table__), cast(Table, Variant.__table__)
        async with self._db.writer() as session:
            conn = await session.connection()  # Core executemany: one statement, many rows
            if views:
                add_views = (
                    update(images)
                    .where(images.c.id == bindparam("image_id"))
                    # A view is no change to the image: keep `updated_at` (its onupdate would stamp it).
                    .values(view_count=images.c.view_count + bindparam("n"), updated_at=images.c.updated_at)
                )
                await conn.execute(add_views, [{"image_id": key, "n": n} for key, n in views.items()])
            if accessed:
                touch = (
                    update(variants)
                    .where(variants.c.id == bindparam("variant_id"))
                    .values(last_accessed_at=bindparam("when"))
                )
                await conn.execute(touch, [{"variant_id": k, "when": w} for k, w in accessed.items()])

    async def run_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.flush()
