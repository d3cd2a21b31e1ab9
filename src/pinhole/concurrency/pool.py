"""A bounded pool for CPU-heavy image work, with back-pressure.

libvips releases the GIL, so threads give real parallelism. At most `threads` jobs run and at most `queue_size`
wait; one more is refused at once with `Overloaded` (503 + Retry-After) instead of queueing until memory runs out.
libvips' own worker threads, which do the pixel work, run at `nice` (concurrency/priority.py), below the event loop
that answers cached requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from pinhole.concurrency.priority import Priority
from pinhole.errors import Overloaded
from pinhole.observability.telemetry import record_queue_wait

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    def __init__(self, *, threads: int, queue_size: int, retry_after: int = 1, nice: int = 0):
        self.threads = threads
        self.priority = Priority(nice)
        self.capacity = threads + queue_size
        self.retry_after = retry_after
        self._limiter = anyio.CapacityLimiter(threads)
        self._admitted = 0
        self.refused = 0  # jobs refused with Overloaded (read by the metrics sampler)

    @property
    def admitted(self) -> int:
        """Jobs running or waiting right now."""
        return self._admitted

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._admitted >= self.capacity:
            self.refused += 1
            raise Overloaded(retry_after=self.retry_after)
        self._admitted += 1
        admitted = time.perf_counter()
        started = admitted

        def job() -> T:
            nonlocal started
            started = time.perf_counter()
            return func(*args, **kwargs)

        try:
            return await anyio.to_thread.run_sync(self._job(job), limiter=self._limiter)
        finally:
            self._admitted -= 1
            record_queue_wait(started - admitted)

    def _job(self, func: Callable[[], T]) -> Callable[[], T]:
        def job() -> T:
            self.priority.lower_libvips_workers()
            try:
                return func()
            finally:
                self.priority.lower_libvips_workers()  # the ones this job started

        return job
