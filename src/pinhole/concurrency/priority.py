"""Image work at a lower CPU priority than the event loop, so cached answers never queue behind renders.

A render keeps every core busy for tens of milliseconds (the pool's threads plus libvips' own workers), while a
cached answer needs the event loop for a fraction of a millisecond. At equal priority the loop gets its share of the
CPU only after the render threads, and warm hits waited 300-430 ms (p90) behind renders in a repeat-heavy mix. With
the image threads at a higher nice value (Linux: per thread), the scheduler runs the loop first; renders still get
all the CPU the loop leaves, so their throughput does not drop when nothing else is waiting.

libvips runs its pipelines on its own threads ("libvips worker"), which inherit the nice value of the thread that
starts them; those started before (the format probe at start-up) are lowered here the first time a job runs after
them. Elsewhere than Linux this is a no-op.
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
    """Lowers the calling thread and libvips' worker threads to `nice` (0: leave every thread alone)."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self.enabled = nice > 0 and sys.platform == "linux" and TASKS.is_dir()
        self._lowered: set[int] = set()
        self._lock = threading.Lock()

    def lower_current_thread(self) -> None:
        """Call from the worker thread before a job: lowers it (once) and any libvips worker not lowered yet."""
        if not self.enabled:
            return
        self._lower(threading.get_native_id())
        with contextlib.suppress(OSError):
            for task in TASKS.iterdir():
                tid = int(task.name)
                if tid not in self._lowered and _name(task) == LIBVIPS_THREAD:
                    self._lower(tid)

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
