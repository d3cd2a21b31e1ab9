"""Progress of a long command: a rich progress bar on a terminal, plain periodic lines on stderr otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

PLAIN_INTERVAL_SECONDS = 10.0


class ProgressReport:
    """`advance(n)` after each unit of work; used as a context manager around the work."""

    def __init__(self, label: str, total: int | None, *, interactive: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last_line = time.monotonic()

    def __enter__(self) -> ProgressReport:
        if self.interactive:
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def advance(self, count: int = 1, *, label: str | None = None) -> None:
        self.done += count
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=count, description=label or self.label)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_INTERVAL_SECONDS:
            self._last_line = now
            self._line(label)

    def _line(self, label: str | None) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        typer.echo(f"{label or self.label}: {self.done}{of}", err=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif kind is None:
            self._line(None)
