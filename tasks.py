#!/usr/bin/env python3
"""Bootstrap and run pinhole with nothing but Python installed.

    python3 tasks.py serve [ARGS...]   run the service on the embedded default (SQLite + ./data)
    python3 tasks.py bench [NAME...] [ARGS...]  benchmarks (bench/README.md): with no NAME the peer comparison
                                              (`peers`: pinhole vs thumbor, nginx, a minimal app, libvips) and
                                              its goals table; NAME is a module of bench/ with `run(argv)`
                                              (transform, warm, upload, memory, scaleout, all, ...); ARGS go to each
    python3 tasks.py test  [PYTEST ARGS...]   lint (ruff), type check (mypy --strict, package and tests) and the
                                              whole test suite: on the embedded stack (SQLite + local
                                              files), measuring coverage of src/pinhole against its floor, then on
                                              the scaled one (PostgreSQL + S3 server + Redis: the tests that reach
                                              them, tests/conftest.py); PINHOLE_TEST_STACK=
                                              embedded|scaled runs one (installs Debian's chromium +
                                              chromium-driver for the browser tests)

All create `.venv` on first use and install pinhole with its dev tools into it (again whenever
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
# Coverage is measured on one stack's run: it slows a run down by about a third, and the floor
# (`fail_under` in pyproject.toml) is that stack's figure.
COVERED_STACK = "embedded"


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
    covered = stack == COVERED_STACK
    # The floor is checked by `_coverage_total`, after the run, not by pytest-cov.
    coverage = ["--cov", "--cov-report=", "--cov-fail-under=0"] if covered else []
    options = [*coverage, *_workers(args), *args]
    print(f"+ PINHOLE_TEST_STACK={stack} {BIN / 'python'} -m pytest {' '.join(options)}", flush=True)
    command = [str(BIN / "python"), "-m", "pytest", *options]
    env = {**os.environ, "PINHOLE_TEST_STACK": stack, "COVERAGE_FILE": str(ROOT / ".coverage")}
    returncode = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    if covered:
        returncode = _coverage_total(stack, whole_suite=not args) or returncode
    return returncode


def _workers(args: list[str]) -> list[str]:
    """One pytest-xdist worker per CPU, each taking whole test files (their module fixtures: live servers,
    browsers, S3 servers start once per file). The tests are CPU-bound in one process (the coverage tracer adds
    ~70%): on CI's 2 cores the embedded stack took 62 min in one process and 19 min (no coverage) in two.
    A caller's own `-n`/`-p no:xdist` wins."""
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in args) or "no:xdist" in args:
        return []
    return ["-n", "auto", "--dist", "loadfile"]


def _coverage_total(stack: str, *, whole_suite: bool) -> int:
    """Print the run's coverage of src/pinhole; under the floor is a failure when the whole suite ran."""
    import tomllib

    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]["report"]["fail_under"]
    command = [str(BIN / "python"), "-m", "coverage", "report", "--format=total", "--precision=1"]
    if not whole_suite:
        command.append("--fail-under=0")  # a chosen subset covers less: report, do not judge
    env = {**os.environ, "COVERAGE_FILE": str(ROOT / ".coverage")}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    verdict = "" if whole_suite else ", not checked: not the whole suite"
    if whole_suite and result.returncode != 0:
        verdict = ", UNDER THE FLOOR"
    total = result.stdout.strip().splitlines()[0] if result.stdout.strip() else "?"
    print(f"coverage of src/pinhole on the {stack} stack: {total}% (floor {floor}%{verdict})", flush=True)
    if result.returncode not in (0, 2):  # 2: under the floor; anything else is coverage failing
        print(result.stderr, flush=True)
    return result.returncode


def bench(args: list[str]) -> None:
    """`bench [NAME...] [ARGS...]`: bench/dispatch.py runs each NAME's module (bench/NAME.py, its `run(argv)`)."""
    ensure_env()
    _run(BIN / "python", ROOT / "bench" / "dispatch.py", *args)


def main() -> None:
    commands = {"serve": serve, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
