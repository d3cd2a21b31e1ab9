"""The server's entry point (`pinhole.app:factory`, what granian calls in each worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc
from pinhole.app import factory
app = factory()
print(gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_start_up_objects_are_kept_out_of_the_garbage_collectors_walks(tmp_path: Path) -> None:
    """Hundreds of thousands of objects live as long as the process; a full collection walking them stopped the
    event loop for 0.3-0.7 s. The factory freezes them, so collections see only what requests made since. (A fresh
    interpreter: freezing the test process would keep its garbage.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | {"PINHOLE_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    frozen, tracked = (int(value) for value in done.stdout.split())
    assert frozen > 50_000
    assert tracked < frozen // 10
