"""`python3 tasks.py bench [NAME...] [ARGS...]`: run benchmark modules of bench/ by name.

A NAME is a module here with a `run(argv) -> list[Figure]` function (peers, transform, warm, upload, memory,
scaleout, soak, ...); `all` is run_all.py. With no NAME, `peers` runs: pinhole against the servers a user would
pick instead, with the goals table and bench/results.json. Everything from the first argument starting with `-`
on is handed to each module's `run`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT = "peers"
ALIASES = {"all": "run_all"}
Runner = Callable[[list[str] | None], object]


def available() -> list[str]:
    """The modules of bench/ that can be run by name."""
    names = []
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.stem in ("dispatch", "common") or path.stem.startswith("_"):
            continue
        if "\ndef run(" in path.read_text() or path.stem in ALIASES.values():
            names.append(path.stem)
    return names


def runner(name: str) -> Runner:
    module = importlib.import_module(ALIASES.get(name, name))
    found = getattr(module, "run", None)
    if found is None:  # run_all has main() only
        main = module.main
        return lambda argv: (sys.argv.__setitem__(slice(1, None), argv or []), main())
    return cast(Runner, found)


def split(args: list[str]) -> tuple[list[str], list[str]]:
    """(names, the arguments after them)."""
    names: list[str] = []
    for index, arg in enumerate(args):
        if arg.startswith("-"):
            return names, args[index:]
        names.append(arg)
    return names, []


def main(args: list[str]) -> int:
    names, rest = split(args)
    known = available()
    unknown = [name for name in names if ALIASES.get(name, name) not in known]
    if unknown or (args[:1] in (["-h"], ["--help"]) and not names):
        print(__doc__)
        print("benchmarks: " + ", ".join([*known, *ALIASES]))
        return 2 if unknown else 0
    sys.path.insert(0, str(BENCH_DIR))
    for name in names or [DEFAULT]:
        print(f"\n## bench {name} {' '.join(rest)}", flush=True)
        runner(name)(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
