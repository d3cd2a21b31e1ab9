"""A per-process LRU of small, hot blobs kept in memory, bounded by total bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

MAX_ITEM_BYTES = 512 * 1024


@dataclass
class MemoryCache:
    """Blobs by (key, etag): keys are content-derived, so an entry never goes stale, it only ages out."""

    budget: int
    max_item: int = MAX_ITEM_BYTES
    items: OrderedDict[tuple[str, str], bytes] = field(default_factory=OrderedDict)
    used: int = 0
    hits: int = 0
    misses: int = 0  # hits and misses are read by the metrics sampler

    def get(self, key: str, etag: str) -> bytes | None:
        data = self.items.get((key, etag))
        if data is not None:
            self.items.move_to_end((key, etag))
            self.hits += 1
        else:
            self.misses += 1
        return data

    def fits(self, size: int) -> bool:
        return size <= min(self.max_item, self.budget)

    def put(self, key: str, etag: str, data: bytes) -> None:
        if not self.fits(len(data)) or (key, etag) in self.items:
            return
        self.items[(key, etag)] = data
        self.used += len(data)
        while self.used > self.budget:
            _, evicted = self.items.popitem(last=False)
            self.used -= len(evicted)

    def discard(self, keys: Collection[str]) -> None:
        """Drop every entry stored under these keys (whatever its etag): their blobs are gone."""
        wanted = set(keys)
        for item in [item for item in self.items if item[0] in wanted]:
            self.used -= len(self.items.pop(item))
