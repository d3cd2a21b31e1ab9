"""The background variant pruner: every few minutes, evict least recently used variants down to the budget.

Each server process runs its own when enabled. Concurrent prunes are safe (rows are deleted by id, a missing file
is no error) but repeat each other's work; electing one pruner per deployment needs shared coordination (Redis),
which comes later. Meanwhile `pinhole cache prune` from cron, with the background task off, is the single pruner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import astuple, dataclass, field

from pinhole.db.engine import Database
from pinhole.services.memory_cache import MemoryCache
from pinhole.services.usage import UsageBuffer
from pinhole.services.variant_cache import PruneResult, forget_blobs, prune_variants
from pinhole.services.variants import VariantService
from pinhole.storage.base import BlobStore

log = logging.getLogger(__name__)


@dataclass
class VariantPruner:
    db: Database
    store: BlobStore
    usage: UsageBuffer
    variants: VariantService
    hot: MemoryCache
    max_bytes: int  # 0: no budget, nothing to prune
    target_bytes: int
    interval: float  # 0: no background task
    passes: int = 0  # background passes finished, failed ones included (how tests follow the task)
    prunes: int = 0  # prunes that evicted something, and what they evicted (read by the metrics sampler)
    evicted: int = 0
    evicted_bytes: int = 0
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and self.max_bytes > 0

    async def prune_once(self) -> PruneResult:
        await self.usage.flush()  # this process's recent hits count before deciding what is cold
        result = await prune_variants(
            db=self.db,
            store=self.store,
            max_bytes=self.max_bytes,
            target_bytes=self.target_bytes,
            forget=self._forget,
            keep_going=lambda: not self._stopping.is_set(),
        )
        if result.evicted:
            self.prunes += 1
            self.evicted += result.evicted
            self.evicted_bytes += result.bytes_freed
            log.info("evicted %d variants (%d bytes); %d bytes remain", *astuple(result)[:3])
        return result

    async def run(self) -> None:
        """Prune every `interval` seconds until `stop()`; a failed pass is logged and retried at the next one."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):  # the interval passed without a stop: prune
                await asyncio.wait_for(self._stopping.wait(), self.interval)
                return
            try:
                await self.prune_once()
            except Exception:
                log.exception("pruning the variant cache failed; trying again in %s s", self.interval)
            self.passes += 1

    def stop(self) -> None:
        """Ask `run()` to return; a pass under way finishes its current batch first (no half-evicted batch)."""
        self._stopping.set()

    def _forget(self, keys: Collection[str]) -> None:
        forget_blobs(variants=self.variants, hot=self.hot, keys=keys)
