"""Node.js for the TypeScript SDK's tests: Debian's nodejs and npm, installed with apt-get when missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.debian import apt_install

PACKAGES = ("nodejs", "npm")


class NodeMissing(RuntimeError):
    pass


def _present() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_node() -> None:
    """Install Debian's nodejs and npm when missing; raise if still missing."""
    apt_install(PACKAGES, present=_present, missing=NodeMissing)


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
