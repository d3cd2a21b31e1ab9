"""A lean HTTP/1.1 load generator (asyncio streams, keep-alive) and a watch on the rest of the machine.

httpx costs more CPU per request than the servers it would measure; this client only writes a GET, reads the
status line and headers, and reads Content-Length bytes. Each request's path comes from a callback, so workloads
can make every request a new variant (cold renders) or draw from a distribution (the Zipf mix), and each result
keeps its path and a label the workload chose (hit or render), so latencies can be split.

`Watch` measures how much CPU processes other than this one and its children used while a measurement ran:
on a shared machine a measurement another process disturbed is discarded and repeated (`measure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from common import percentile

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Result:
    started: float
    latency: float
    status: int
    size: int
    label: str


@dataclass
class Run:
    """What one load run saw."""

    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def ok(self, label: str | None = None) -> list[Result]:
        return [r for r in self.results if r.status == 200 and (label is None or r.label == label)]

    @property
    def rps(self) -> float:
        return len(self.ok()) / self.seconds if self.seconds else 0.0

    def latency_ms(self, fraction: float, label: str | None = None) -> float:
        return percentile([r.latency for r in self.ok(label)], fraction) * 1000


# A request source: given the connection's index, the next path (and its label), or None to stop this connection.
Source = Callable[[int], tuple[str, str] | None]
# Told of every finished request (path, status), e.g. to learn which variants exist now.
Done = Callable[[str, int], None]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """(status, body size, keep-alive) of one response; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        lowered = name.strip().lower()
        if lowered == "content-length":
            length = int(value.strip())
        elif lowered == "connection" and value.strip().lower() == "close":
            keep = False
    await reader.readexactly(length)
    return status, length, keep


async def _connection(
    index: int, port: int, source: Source, done: Done | None, deadline: float, run: Run, timeout: float
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < deadline:
            item = source(index)
            if item is None:
                return
            path, label = item
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            assert reader is not None
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: */*\r\n\r\n".encode("latin-1")
            started = time.perf_counter()
            try:
                writer.write(request)
                status, size, keep = await asyncio.wait_for(_read_response(reader), timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
                run.errors += 1
                status, size, keep = 0, 0, False
            run.results.append(Result(started, time.perf_counter() - started, status, size, label))
            if done is not None:
                done(path, status)
            if not keep:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _drive(port: int, source: Source, connections: int, seconds: float, done: Done | None, timeout: float) -> Run:
    run = Run()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(i, port, source, done, deadline, run, timeout) for i in range(connections)),
    )
    run.seconds = time.perf_counter() - started
    return run


def drive(
    port: int, source: Source, *, connections: int, seconds: float, done: Done | None = None, timeout: float = 60
) -> Run:
    """Keep `connections` requests in flight for `seconds` (requests under way then are finished and counted)."""
    return asyncio.run(_drive(port, source, connections, seconds, done, timeout))


def sequence(paths: Sequence[tuple[str, str]]) -> Source:
    """A source handing out `paths` in order, each once, across all connections."""
    position = 0

    def next_path(_: int) -> tuple[str, str] | None:
        nonlocal position
        if position >= len(paths):
            return None
        position += 1
        return paths[position - 1]

    return next_path


# ---------------------------------------------------------------------------------------------
# The rest of the machine

TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
DISTURBED = 0.20  # others using more than this share of all CPUs during a measurement disturb it
ATTEMPTS = 3


def _busy_ticks() -> int:
    """Ticks every CPU spent busy since boot (user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


def _tree_ticks(root: int | None = None) -> dict[int, int]:
    """utime + stime (and children's reaped) of `root` (default: this process) and each descendant."""
    from common import process_tree

    ticks = {}
    for pid in process_tree(os.getpid() if root is None else root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks[pid] = sum(int(f) for f in fields[11:15])
    return ticks


class Watch:
    """CPU share the rest of the machine used between `start()` and `stop()` (0.0-1.0 of all CPUs)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.busy = _busy_ticks()
        self.ours = _tree_ticks()

    def others(self) -> float:
        elapsed = time.monotonic() - self.started
        busy = _busy_ticks() - self.busy
        now = _tree_ticks()
        ours = sum(value - self.ours.get(pid, 0) for pid, value in now.items())
        # Children that exited during the run were reaped into their parent's cutime/cstime (counted above).
        return max(0.0, (busy - ours) / (elapsed * TICKS * CPUS)) if elapsed > 0 else 0.0


def cpu_seconds(root: int, action: Callable[[], T]) -> tuple[T, float]:
    """`action()`, and the CPU seconds the process tree of `root` (a server) spent meanwhile: on a shared machine,
    requests per CPU-second compare servers that got different shares of the CPUs."""
    before = _tree_ticks(root)
    result = action()
    after = _tree_ticks(root)
    return result, sum(value - before.get(pid, 0) for pid, value in after.items()) / TICKS


T = TypeVar("T")
notes: list[str] = []  # what `measure` discarded, for the report
attempts = ATTEMPTS


def measure(name: str, action: Callable[[int], T]) -> tuple[T, float]:
    """Run `action(attempt)` until the rest of the machine stays under DISTURBED (at most `attempts` times);
    returns the least disturbed result and the share others used during it. Says so when it discards one."""
    best: tuple[T, float] | None = None
    for attempt in range(attempts):
        watch = Watch()
        result = action(attempt)
        others = watch.others()
        if best is None or others < best[1]:
            best = (result, others)
        if others <= DISTURBED:
            break
        message = f"{name}: other processes used {others:.0%} of the CPUs during attempt {attempt + 1}"
        if attempt + 1 < attempts:
            message += "; discarded, repeating"
        else:
            message += f"; kept the least disturbed attempt ({best[1]:.0%})"
        print("  " + message, flush=True)
        notes.append(message)
    assert best is not None
    return best
