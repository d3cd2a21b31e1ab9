"""Image work at a lower CPU priority than the event loop, so cached answers never queue behind renders.

A render keeps every core busy for tens of milliseconds, while a cached answer needs the event loop for a fraction of
a millisecond. At equal priority the loop gets its share of the CPU only after the render threads, and warm hits
waited 300-430 ms (p90) behind renders in a repeat-heavy mix. The pixel work runs on libvips' own threads ("libvips
worker"; the calling thread mostly waits for them): with those at a higher nice value (Linux: per thread), the
scheduler runs the loop first; renders still get all the CPU the loop leaves.

Only libvips' threads are lowered: a lowered thread cannot be raised again without privileges, and the calling
threads are anyio's, shared with file I/O. (A pool of its own, lowered, was tried: the w=800 render of a 108 MP
image then grew the server by +88 MiB instead of +33, its allocations landing in fresh malloc arenas.) New libvips
workers are lowered when the job that started them ends. Elsewhere than Linux this is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

LIBVIPS_THREAD = "libvips worker"
TASKS = Path("/proc/self/task")


class Priority:
    """Lowers libvips' worker threads to `nice` (0: leave every thread alone)."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self.enabled = nice > 0 and sys.platform == "linux" and TASKS.is_dir()
        self._lowered: set[int] = set()
        self._others: set[int] = set()  # threads named for good, and not libvips workers
        # What a new thread is called until it names itself (the process's name).
        self._own = _name(TASKS.parent) if self.enabled else ""
        self._lock = threading.Lock()

    def lower_libvips_workers(self) -> None:
        """Call around a job: lowers every libvips worker thread not lowered yet.

        Only threads not seen before have their name read: Python's own threads (never libvips workers) and those
        already sorted are skipped. Reading every thread's name on each call took ~2 ms of Python (holding the GIL)
        with 14 threads, twice per render.
        """
        if not self.enabled:
            return
        try:
            alive = {int(name) for name in os.listdir(TASKS)}
        except OSError:
            return
        python = {thread.native_id for thread in threading.enumerate()}
        for tid in alive - python - self._lowered - self._others:
            name = _name(TASKS / str(tid))
            if name == LIBVIPS_THREAD:
                self._lower(tid)
            elif name and name != self._own:  # a thread still called like the process may be about to name itself
                self._others.add(tid)
        with self._lock:  # forget threads gone, so a reused thread id is looked at again
            self._lowered &= alive
            self._others &= alive

    def _lower(self, tid: int) -> None:
        if tid in self._lowered:
            return
        with self._lock, contextlib.suppress(OSError):  # the thread may be gone; lowering is best effort
            os.setpriority(os.PRIO_PROCESS, tid, max(self.nice, os.getpriority(os.PRIO_PROCESS, tid)))
            self._lowered.add(tid)


def _name(task: Path) -> str:
    try:
        return (task / "comm").read_text().strip()
    except OSError:
        return ""
