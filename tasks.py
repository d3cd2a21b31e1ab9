#!/usr/bin/env python3
"""Bootstrap and run pinhole with nothing but Python installed.

    python3 tasks.py serve [ARGS...]   run the service on the embedded default (SQLite + ./data)
    python3 tasks.py test  [PYTEST ARGS...]   lint (ruff), type check (mypy --strict) and the whole test suite,
                                              twice: on the embedded stack (SQLite + local files) and on the
                                              scaled one (PostgreSQL + S3 server + Redis); PINHOLE_TEST_STACK=
                                              embedded|scaled runs one (installs Debian's chromium +
                                              chromium-driver for the browser tests)

Both create `.venv` on first use and install pinhole with its dev tools into it (again whenever
pyproject.toml changes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".pinhole-installed"
STACKS = ("embedded", "scaled")  # tests/conftest.py says what each means


def _run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_env() -> None:
    projects = [ROOT / "pyproject.toml", ROOT / "clients/python/pyproject.toml"]
    wanted = hashlib.sha256(b"".join(path.read_bytes() for path in projects)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", "clients/python")  # the Python SDK and its CLI
    STAMP.write_text(wanted)


def serve(args: list[str]) -> None:
    ensure_env()
    os.execv(BIN / "pinhole", [str(BIN / "pinhole"), "serve", *args])  # noqa: S606


def ensure_browser() -> None:
    """The end-to-end tests need Debian's chromium and chromium-driver: install them when missing, or stop here."""
    print("+ checking for chromium and chromedriver (installing them with apt-get when missing)", flush=True)
    _run(BIN / "python", "-c", "from tests.web.live import ensure_chromium; ensure_chromium()")


def ensure_redis() -> None:
    """The Redis tests use a server on 127.0.0.1:6379: start a throwaway one (no persistence) when none answers and
    `redis-server` is installed; otherwise those tests skip, and say so loudly."""
    import shutil
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=1):
        return
    server = shutil.which("redis-server")
    if server is None:
        print("! no Redis on 127.0.0.1:6379 and no redis-server on PATH: the Redis tests will be skipped", flush=True)
        return
    _run(server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no")


def test(args: list[str]) -> None:
    ensure_env()
    ensure_browser()
    ensure_redis()
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    stacks = [os.environ["PINHOLE_TEST_STACK"]] if os.environ.get("PINHOLE_TEST_STACK") else list(STACKS)
    failed = [stack for stack in stacks if _pytest_on(stack, args) != 0]
    if failed:
        print(f"FAILED on the {' and the '.join(failed)} stack", flush=True)
        sys.exit(1)


def _pytest_on(stack: str, args: list[str]) -> int:
    """Both stacks always run, so one run tells about both."""
    print(f"+ PINHOLE_TEST_STACK={stack} {BIN / 'python'} -m pytest {' '.join(args)}", flush=True)
    command = [str(BIN / "python"), "-m", "pytest", *args]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "PINHOLE_TEST_STACK": stack}, check=False).returncode


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
