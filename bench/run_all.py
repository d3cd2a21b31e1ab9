"""Run every benchmark (transform, warm, upload, memory) and end with one summary table.

Each benchmark prints its own detailed table as it finishes; a benchmark that fails is reported as FAILED
in the summary and the others still run.
"""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Callable

import memory
import transform
import upload
import warm
from common import Figure, machine_note, print_summary

Bench = Callable[[list[str] | None], list[Figure]]


def plan(args: argparse.Namespace) -> list[tuple[str, Bench, list[str]]]:
    workers = ["--workers", str(args.workers)]
    quick = args.quick
    return [
        ("transform", transform.run, [*workers, "--iterations", "12" if quick else "30"]),
        ("warm", warm.run, [*workers, "--duration", "4" if quick else "10", "--connections", "64"]),
        ("upload", upload.run, [*workers, "--iterations", "3" if quick else "8"]),
        ("memory", memory.run, workers),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and shorter load runs")
    args = parser.parse_args()
    figures: list[Figure] = []
    for name, bench, argv in plan(args):
        print(f"\n## {name} {' '.join(argv)}", flush=True)
        try:
            figures.extend(bench(argv))
        except Exception:
            traceback.print_exc()
            figures.append(Figure(bench=name, name="(benchmark failed, see above)", value="FAILED"))
    print_summary(figures, title=f"Summary ({args.workers} worker(s); {machine_note()})")


if __name__ == "__main__":
    main()
