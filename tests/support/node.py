"""Node.js for the TypeScript SDK's tests: Debian's nodejs and npm, installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGES = ("nodejs", "npm")


class NodeMissing(RuntimeError):
    pass


def _present() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_node() -> None:
    """Install Debian's nodejs and npm when missing (needs root and apt-get); raise if still missing."""
    if _present():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        raise NodeMissing("node or npm is missing and apt-get is not available to install them")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *PACKAGES]
    result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        subprocess.run([apt, "update"], env=env, capture_output=True, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if not _present():
        raise NodeMissing(
            f"could not install nodejs and npm (apt-get exit {result.returncode}):\n{result.stderr[-2000:]}"
        )


def npm(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [shutil.which("npm") or "npm", *args], cwd=project, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"npm {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def build(project: Path) -> None:
    """Install the devDependencies from the lock file (when missing) and compile with tsc."""
    if not (project / "node_modules" / "typescript").exists():
        npm(project, "ci", "--no-audit", "--no-fund")
    npm(project, "run", "build")
