"""Debian packages the tests need (Chromium, Node.js), installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence


def apt_install(packages: Sequence[str], *, present: Callable[[], bool], missing: type[Exception]) -> None:
    """Install `packages` unless `present()` already holds (needs root and apt-get); raise `missing` if it still fails.

    The package lists may be stale on a fresh machine, so a failed install is retried once after `apt-get update`.
    """
    if present():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        raise missing(f"{' '.join(packages)}: missing, and apt-get is not available to install them")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *packages]
    result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        subprocess.run([apt, "update"], env=env, capture_output=True, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if not present():
        raise missing(
            f"could not install {' '.join(packages)} (apt-get exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
