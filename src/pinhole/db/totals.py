"""Listing totals (page mode) kept for a few seconds, so a first page does not count every matching row each time.

`SELECT count(*)` over a client's images reads every matching index entry: ~50 ms at 100k images against ~10 ms for
the page itself (bench/peers.py, listing row). A total is kept per count statement (SQL and parameters) for
`ttl` seconds and dropped at once when this process writes to a table listings filter on (`images`, `image_tags`,
`album_images`; an UPDATE that only touches `view_count`/`updated_at` does not count), so a client sees its own
upload or delete in the next total. Writes made through another process or instance show within `ttl`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

LISTED_TABLES = ("images", "image_tags", "album_images")
_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE)\s+\"?(\w+)\"?(.*)", re.IGNORECASE | re.DOTALL
)
_SET = re.compile(r"\bSET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)
_UNLISTED_COLUMNS = frozenset({"view_count", "updated_at"})  # no listing filters on these
MAX_ENTRIES = 1000


def changes_listings(statement: str) -> bool:
    """True when `statement` may change which rows a listing finds (or how many)."""
    found = _WRITE.match(statement)
    if found is None or found.group(1).lower() not in LISTED_TABLES:
        return False
    if not statement.lstrip()[:6].upper().startswith("UPDATE"):
        return True
    assigned = _SET.search(found.group(2))
    if assigned is None:
        return True
    columns = {part.split("=")[0].strip().strip('"').lower() for part in assigned.group(1).split(",")}
    return not columns <= _UNLISTED_COLUMNS


class Totals:
    """Counts of listing queries, reused for `ttl` seconds unless this process wrote to a listed table since."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0  # bumped by every write that may change a listing
        self._items: dict[tuple[str, str], tuple[int, float, int]] = {}

    def watch(self, engine: Engine) -> None:
        """Listen to the statements `engine` (the one writes go through) runs."""
        event.listen(engine, "after_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if changes_listings(statement):
            self.generation += 1

    async def count(self, session: AsyncSession, base: Select[Any]) -> int:
        """The number of rows `base` finds, from the cache when fresh."""
        query = select(func.count()).select_from(base.subquery())
        if self.ttl <= 0:
            return int(await session.scalar(query) or 0)
        compiled = query.compile(session.get_bind())
        key = (str(compiled), repr(sorted(compiled.params.items())))
        now = time.monotonic()
        held = self._items.get(key)
        if held is not None and held[1] > now and held[2] == self.generation:
            return held[0]
        generation = self.generation  # taken before the count: a write during it leaves the entry stale
        total = int(await session.scalar(query) or 0)
        if len(self._items) >= MAX_ENTRIES:
            self._items.clear()
        self._items[key] = (total, now + self.ttl, generation)
        return total
