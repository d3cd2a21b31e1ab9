"""Single flight: concurrent callers asking for the same key share one execution and its result.

The work runs in its own task, so a caller that disconnects (is cancelled) does not cancel it for the others.
This is per process; across instances sharing a Redis, `pinhole.shared.locks.SharedFlight` adds a lock.

`Rereads` is the same for a cache entry that is due: one read per key, while callers keep the expired entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Task[T]] = {}
        self.joins = 0  # callers that shared a run already under way (read by the metrics sampler)

    def __len__(self) -> int:
        return len(self._inflight)

    def __contains__(self, key: Hashable) -> bool:
        """True while a run for `key` is under way."""
        return key in self._inflight

    async def run(self, key: Hashable, work: Coroutine[Any, Any, T]) -> T:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(work)
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        else:
            work.close()  # never started: someone else is already doing it
            self.joins += 1
        return await asyncio.shield(task)

    def _finished(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an error nobody awaited is not reported as lost


class Rereads(Generic[T]):
    """Reading a due cache entry again, once per key, for a per-process cache whose readers keep the expired entry
    while `key in rereads` (otherwise, under load, every request reaches the expired entry at the same moment and
    runs the same query). `changed()` is the cache's forget: a read that began before it is returned to its callers
    but not kept, so it cannot put back what a change here just dropped."""

    def __init__(self) -> None:
        self.flights: SingleFlight[T] = SingleFlight()
        self._changes = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self.flights

    def changed(self) -> None:
        self._changes += 1

    async def run(self, key: Hashable, read: Callable[[], Awaitable[T]], keep: Callable[[T], None]) -> T:
        """`read()` once for all concurrent callers of `key`; `keep(value)` unless a change came meanwhile."""
        return await self.flights.run(key, self._once(read, keep))

    async def _once(self, read: Callable[[], Awaitable[T]], keep: Callable[[T], None]) -> T:
        began = self._changes
        value = await read()
        if began == self._changes:
            keep(value)
        return value
