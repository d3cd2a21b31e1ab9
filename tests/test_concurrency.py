"""The worker pool's back-pressure and single flight, driven directly."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest
import pyvips

from pinhole.concurrency.pool import WorkerPool
from pinhole.concurrency.singleflight import SingleFlight
from pinhole.errors import Overloaded

pytestmark = pytest.mark.anyio


async def test_pool_refuses_beyond_threads_plus_queue() -> None:
    pool = WorkerPool(threads=2, queue_size=1)
    release = threading.Event()
    running = [asyncio.create_task(pool.run(release.wait, 5)) for _ in range(3)]
    while pool.admitted < 3:
        await asyncio.sleep(0.005)
    with pytest.raises(Overloaded):
        await pool.run(lambda: 1)
    release.set()
    assert await asyncio.gather(*running) == [True, True, True]
    assert pool.admitted == 0
    assert await pool.run(lambda: 42) == 42


async def test_pool_runs_no_more_than_its_threads_at_once() -> None:
    pool = WorkerPool(threads=2, queue_size=10)
    lock = threading.Lock()
    active = peak = 0

    def job() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        threading.Event().wait(0.02)
        with lock:
            active -= 1

    await asyncio.gather(*(pool.run(job) for _ in range(8)))
    assert peak == 2


async def test_single_flight_shares_one_run_and_its_error() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return 7

    assert await asyncio.gather(*(flights.run("k", work()) for _ in range(5))) == [7] * 5
    assert calls == 1
    assert len(flights) == 0

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    results = await asyncio.gather(*(flights.run("e", broken()) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert await flights.run("e", work()) == 7  # a failure is not cached


async def test_a_cancelled_caller_does_not_cancel_the_shared_work() -> None:
    flights: SingleFlight[int] = SingleFlight()

    async def work() -> int:
        await asyncio.sleep(0.05)
        return 3

    first = asyncio.create_task(flights.run("k", work()))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(flights.run("k", work()))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == 3


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_libvips_workers_run_below_the_event_loop() -> None:
    pool = WorkerPool(threads=1, queue_size=1, nice=7)

    def job() -> int:
        pyvips.Image.black(64, 64).avg()  # starts libvips worker threads, if none were started before
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert await pool.run(job) == 0  # the calling thread is anyio's, shared with file I/O: left alone
    workers = [t for t in Path("/proc/self/task").iterdir() if (t / "comm").read_text().strip() == "libvips worker"]
    assert workers
    assert all(os.getpriority(os.PRIO_PROCESS, int(t.name)) >= 7 for t in workers)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0  # the event loop's thread is untouched
