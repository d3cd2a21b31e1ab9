"""Blocking file-system steps of the local blob store; the store runs each one in a worker thread."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO, TypeVar

# "~" is never valid in a key, so a temp file can neither collide with a blob nor be listed as one.
TEMP_PREFIX = "~tmp-"
# Each retry needs another concurrent delete to empty and prune the folder again; 10 never ran out
# in 900 runs of 20 writers racing 20 deleters in one folder (3 did, in 1% of them).
_ATTEMPTS = 10
_COPY_BUFFER = 1024 * 1024

T = TypeVar("T")


def write_atomic(root: Path, dest: Path, fill: Callable[[BinaryIO], None]) -> int:
    """Write through `fill` into a temp file next to `dest`, fsync, rename over `dest`; return the size."""
    temp, fd = _create_temp(root, dest.parent)
    try:
        with open(fd, "wb") as file:
            fill(file)
            file.flush()
            os.fsync(file.fileno())
            size = file.tell()
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return size


def copy_atomic(root: Path, dest: Path, source: Path) -> int:
    def fill(file: BinaryIO) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, file, _COPY_BUFFER)

    return write_atomic(root, dest, fill)


def move_atomic(root: Path, dest: Path, source: Path) -> int:
    """Rename `source` onto `dest` (same file system), else copy it and remove the source."""
    size = _fsync_file(source)
    try:
        _retrying(lambda: _rename(root, source, dest))
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        size = copy_atomic(root, dest, source)
        source.unlink()
    _fsync_dir(dest.parent)
    return size


def read_size(path: Path) -> int | None:
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def size_and_mtime(path: Path) -> tuple[int, float] | None:
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (info.st_size, info.st_mtime) if stat.S_ISREG(info.st_mode) else None


def remove_stale_temp(root: Path, before: float, remove: bool = True) -> int:
    """Delete the temp files of atomic writes that never finished (a killed process) last changed before
    `before` (epoch seconds) anywhere under `root`; return how many (only count them when not `remove`)."""
    removed = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if not name.startswith(TEMP_PREFIX):
                continue
            path = Path(directory) / name
            with suppress(FileNotFoundError):
                if path.stat().st_mtime < before:
                    if remove:
                        path.unlink()
                    removed += 1
    return removed


def remove(root: Path, path: Path) -> None:
    """Unlink `path` if present, then prune the fan-out directories it leaves empty (best effort)."""
    with suppress(FileNotFoundError, NotADirectoryError):
        path.unlink()
    directory = path.parent
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def list_dir(directory: Path) -> list[tuple[str, bool]]:
    """(name, is_dir) pairs sorted so that a depth-first walk yields keys in lexicographic order."""
    try:
        with os.scandir(directory) as entries:
            found = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda item: item[0] + "/" if item[1] else item[0])


def _create_temp(root: Path, directory: Path) -> tuple[Path, int]:
    temp = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}"

    def create() -> int:
        _make_dirs(root, directory)
        return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    return temp, _retrying(create)


def _rename(root: Path, source: Path, dest: Path) -> None:
    _make_dirs(root, dest.parent)
    os.replace(source, dest)


def _retrying(step: Callable[[], T]) -> T:
    """Retry when a concurrent `remove` pruned the fan-out directory between creating and using it."""
    for _ in range(_ATTEMPTS - 1):
        with suppress(FileNotFoundError):
            return step()
    return step()


def _make_dirs(root: Path, directory: Path) -> None:
    """Create the directories below `root`, never `root` itself: a vanished root (an unmounted volume)
    must fail loudly rather than be recreated on the wrong disk."""
    current = root
    for part in directory.relative_to(root).parts:
        current = current / part
        with suppress(FileExistsError):
            current.mkdir()


def _fsync_file(path: Path) -> int:
    with path.open("rb") as file:
        os.fsync(file.fileno())
        return os.fstat(file.fileno()).st_size


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; best effort, as not every platform can open a directory."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
