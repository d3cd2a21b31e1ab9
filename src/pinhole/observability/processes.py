"""`process_*` metrics of every worker, read at scrape time, each series labelled with its `pid`.

prometheus_client's `ProcessCollector` describes the process that answers a scrape; under `pinhole serve` that is
one worker of several (or the main process, on the metrics port). This collector reads the same figures from
/proc for each live worker instead: the workers that still have live-gauge files in the multiprocess folder
(`mark_process_dead` removes them at a worker's exit), or only this process outside multiprocess mode.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

_LIVE_FILE = re.compile(r"gauge_live[a-z]*_(\d+)\.db")


def live_pids(folder: str | None) -> list[int]:
    """The pids of the worker processes writing to `folder` that are still running (this process without one)."""
    if folder is None:
        return [os.getpid()]
    pids = set()
    for name in os.listdir(folder):
        found = _LIVE_FILE.fullmatch(name)
        if found is not None:
            pids.add(int(found.group(1)))
    return sorted(pid for pid in pids if Path(f"/proc/{pid}").exists())


class WorkerProcessCollector(Collector):
    """`process_resident_memory_bytes{pid=...}`, `process_cpu_seconds_total{pid=...}`, `process_open_fds{...}`...
    for each process `live_pids` names (sum them in PromQL for the whole server)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Metric] = {}
        for pid in live_pids(self.folder):
            one = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for family in one.collect():
                target = merged.get(family.name)
                if target is None:
                    target = merged[family.name] = Metric(family.name, family.documentation, family.type)
                for sample in family.samples:
                    labels = {**sample.labels, "pid": str(pid)}
                    target.add_sample(sample.name, labels, sample.value)
        return list(merged.values())
