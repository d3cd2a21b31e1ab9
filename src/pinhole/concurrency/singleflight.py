"""Single flight: concurrent callers asking for the same key share one execution and its result.

The work runs in its own task, so a caller that disconnects (is cancelled) does not cancel it for the others.
This is per process; across instances sharing a Redis, `pinhole.shared.locks.SharedFlight` adds a lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Hashable
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
