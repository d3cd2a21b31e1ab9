"""Telemetry over an app's life: database spans at build, the sampler while serving, a last flush at shutdown."""

from __future__ import annotations

import asyncio
import logging
import os

from prometheus_client import multiprocess

from pinhole.db.engine import Database
from pinhole.observability.logging import flush_access_log
from pinhole.observability.metrics import multiprocess_dir
from pinhole.observability.telemetry import SAMPLE_SECONDS, STORAGE_SAMPLE_SECONDS, Telemetry
from pinhole.observability.tracing import instrument_engine
from pinhole.runtime import Runtime

log = logging.getLogger(__name__)


def observe_database(db: Database, telemetry: Telemetry) -> None:
    """Spans around statements when tracing is on (no event listener at all when it is off)."""
    if not telemetry.tracing.enabled:
        return
    for engine in {db.read_engine, db.write_engine}:
        instrument_engine(engine.sync_engine)


async def run_sampler(runtime: Runtime) -> None:
    """Every second: sample gauges, flush the tally (so other workers' scrapes see this one's counts) and the
    access log's buffered lines."""
    telemetry = runtime.telemetry
    storage_due = 0.0
    loop = asyncio.get_running_loop()
    while True:
        if loop.time() >= storage_due:
            storage_due = loop.time() + STORAGE_SAMPLE_SECONDS
            try:
                await telemetry.sample_storage(runtime)
            except Exception as exc:  # the database may be down: metrics must not take anything else with them
                log.warning("sampling the variant cache size failed: %s", type(exc).__name__)
        telemetry.sample(runtime)
        flush_access_log()
        await asyncio.sleep(SAMPLE_SECONDS)


def stop_telemetry(runtime: Runtime) -> None:
    """A last flush; then this worker's live gauges leave the multiprocess files, and spans are sent."""
    runtime.telemetry.sample(runtime)
    flush_access_log()
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
    runtime.telemetry.tracing.shutdown()
