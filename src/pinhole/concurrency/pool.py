"""A bounded pool for CPU-heavy image work, with back-pressure.

libvips releases the GIL, so threads give real parallelism. At most `threads` jobs run and at most `queue_size`
wait; one more is refused at once with `Overloaded` (503 + Retry-After) instead of queueing until memory runs out.
The threads are the pool's own (not anyio's shared ones) and run at `nice` (concurrency/priority.py), below the
event loop that answers cached requests; a lowered thread cannot be raised again without privileges, so no other
work may land on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from pinhole.concurrency.priority import Priority
from pinhole.errors import Overloaded

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    def __init__(self, *, threads: int, queue_size: int, retry_after: int = 1, nice: int = 0):
        self.threads = threads
        self.priority = Priority(nice)
        self.capacity = threads + queue_size
        self.retry_after = retry_after
        self._executor: ThreadPoolExecutor | None = None  # made at first use: a pool that never runs starts no thread
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Jobs running or waiting right now."""
        return self._admitted

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._admitted >= self.capacity:
            raise Overloaded(retry_after=self.retry_after)
        self._admitted += 1
        try:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="pinhole-image")
            done = asyncio.get_running_loop().run_in_executor(self._executor, self._job(func, *args, **kwargs))
            try:
                return await asyncio.shield(done)
            except asyncio.CancelledError:
                # The job cannot be stopped once it runs: it still holds a thread, so it stays admitted until it ends.
                with contextlib.suppress(BaseException):
                    await done
                raise
        finally:
            self._admitted -= 1

    def _job(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Callable[[], T]:
        def job() -> T:
            self.priority.lower_current_thread()
            return func(*args, **kwargs)

        return job
