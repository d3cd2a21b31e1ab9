"""`pinhole store check [--repair] --json` and `pinhole store purge-kept` on a real data folder."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pinhole.storage.keys import original_key
from tests.support import images as img


def pinhole(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | {"PINHOLE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "pinhole", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def aged(path: Path, seconds: float = 7200) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_store_check_reports_then_repairs_leftovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert pinhole(data, "db", "upgrade").returncode == 0
    (data / "tmp").mkdir(parents=True, exist_ok=True)
    part = data / "tmp" / "upload-0123.part"
    part.write_bytes(b"half an upload")
    aged(part)
    content = img.make_png(20, 20)
    orphan = data / "blobs" / original_key(hashlib.sha256(content).hexdigest())
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(content)
    aged(orphan)
    half_written = orphan.parent / "~tmp-0123456789abcdef"
    half_written.write_bytes(b"x")
    aged(half_written)

    checked = pinhole(data, "store", "check", "--json")
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert (report["ok"], report["tempFiles"], report["storeTempFiles"], report["orphans"]) == (
        False,
        1,
        1,  # the store's own half-written file is counted by a check, not only by a repair
        [orphan.relative_to(data / "blobs").as_posix()],
    )
    assert part.exists()
    assert orphan.exists()
    assert half_written.exists()

    repaired = pinhole(data, "store", "check", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    report = json.loads(repaired.stdout)
    assert (report["ok"], report["tempFiles"], report["storeTempFiles"], len(report["orphans"])) == (True, 1, 1, 1)
    assert not part.exists()
    assert not orphan.exists()
    assert not half_written.exists()

    clean = pinhole(data, "store", "check")
    assert clean.returncode == 0
    assert clean.stdout.strip().endswith("ok")

    purged = pinhole(data, "store", "purge-kept", "--json")
    assert purged.returncode == 0, purged.stderr
    assert json.loads(purged.stdout) == {"purged": []}
