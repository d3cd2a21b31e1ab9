"""tus-js-client, the reference JavaScript tus client, for the browser tests: installed from npm when missing.

It is a test dependency only (the web app has its own small tus client in `upload.js`): `npm install` puts it in
`.cache/npm/` of the checkout (git-ignored) the first time a test needs it, as `ensure_chromium` does for Chromium.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

VERSION = "4"
PREFIX = Path(__file__).resolve().parents[2] / ".cache" / "npm"
BUNDLE = PREFIX / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"


class TusJsMissing(RuntimeError):
    """tus-js-client is not installed and npm could not install it."""


def tus_js_client() -> str:
    """The source of tus-js-client's browser bundle (defines `window.tus`), installing it first when missing."""
    if not BUNDLE.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise TusJsMissing("npm is needed to install tus-js-client for the browser tests")
        PREFIX.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", f"tus-js-client@{VERSION}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if not BUNDLE.exists():
            raise TusJsMissing(f"npm install tus-js-client failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return BUNDLE.read_text()
