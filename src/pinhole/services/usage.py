"""Buffered usage counters: image views and variant last-access times.

Serving an image must not write to the database, so hits are counted in memory and flushed in one
transaction every few seconds (and at shutdown). A crash loses at most one interval of counts.

With Redis (`link`), views are counted in one Redis hash (`HINCRBY`), so every instance reports the same pending
views, and whichever instance flushes takes the whole hash and empties it in one script (`HGETALL` + `DEL`), so no
view is written twice or lost between instances; counts a failed database write could not store go back into the
hash. While Redis is unavailable views are counted in process, as without it, and written by this instance.
Variant access times stay per process: each instance writes its own, and the latest wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy import Table, bindparam, update

from pinhole.db.engine import Database
from pinhole.db.models import Image, Variant
from pinhole.shared.link import RedisLink, RedisUnavailable

log = logging.getLogger(__name__)

_TAKE = """
local views = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return views
"""


class UsageBuffer:
    def __init__(self, database: Database, link: RedisLink | None = None):
        self._db = database
        self._link = link
        self._take = link.client.register_script(_TAKE) if link is not None else None
        self._views: Counter[str] = Counter()
        self._variant_access: dict[int, float] = {}  # epoch seconds (cheaper per hit than a datetime)

    @property
    def shared(self) -> bool:
        """Views are counted in Redis (`record_view` awaits it); else `record_local_view` counts them alike."""
        return self._link is not None

    async def record_view(self, image_id: str) -> None:
        if self._link is not None:
            key = self._link.key("views")
            try:
                await self._link.call(lambda client: client.hincrby(key, image_id, 1))
                return
            except RedisUnavailable:
                pass
        self._views[image_id] += 1

    def record_local_view(self, image_id: str) -> None:
        """A view counted in this process (`record_view` without Redis, with no await: the warm paths' hit)."""
        self._views[image_id] += 1

    def record_variant_access(self, variant_id: int) -> None:
        self._variant_access[variant_id] = time.time()

    async def pending_views(self, image_id: str) -> int:
        """Views counted but not yet written to the database (by every instance, with Redis)."""
        shared = 0
        if self._link is not None:
            key = self._link.key("views")
            with contextlib.suppress(RedisUnavailable):
                shared = int(await self._link.call(lambda client: client.hget(key, image_id)) or 0)
        return self._views.get(image_id, 0) + shared

    async def flush(self) -> None:
        views, self._views = self._views, Counter()
        views.update(await self._take_shared())
        accessed, self._variant_access = self._variant_access, {}
        if not views and not accessed:
            return
        try:
            await self._write(views, accessed)
        except Exception:
            log.exception("could not write %d view counts; they are kept for the next flush", len(views))
            await self._give_back(views)
            for key, when in accessed.items():
                self._variant_access.setdefault(key, when)

    async def _take_shared(self) -> Counter[str]:
        if self._link is None or self._take is None:
            return Counter()
        key, take = self._link.key("views"), self._take

        async def run(client: Redis) -> Any:
            return await take(keys=[key], args=[], client=client)

        try:
            flat = await self._link.call(run)
        except RedisUnavailable:
            return Counter()
        return Counter({flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)})

    async def _give_back(self, views: Counter[str]) -> None:
        if self._link is not None:
            key = self._link.key("views")

            async def run(client: Redis) -> Any:
                async with client.pipeline(transaction=True) as pipe:
                    for image_id, n in views.items():
                        pipe.hincrby(key, image_id, n)
                    return await pipe.execute()

            try:
                await self._link.call(run)
                return
            except RedisUnavailable:
                pass
        self._views.update(views)

    async def _write(self, views: Counter[str], accessed: dict[int, float]) -> None:
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
                when = [{"variant_id": k, "when": datetime.fromtimestamp(w, UTC)} for k, w in accessed.items()]
                await conn.execute(touch, when)

    async def run_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.flush()
