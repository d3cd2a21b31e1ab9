"""`python -m pinhole.sdkgen [ROOT]`: regenerate the SDKs' generated files from the app's OpenAPI document."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pinhole.app import create_app
from pinhole.sdkgen import write
from pinhole.settings import Settings


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    with tempfile.TemporaryDirectory() as data:
        document = create_app(Settings(data_dir=Path(data))).openapi()
    for path in write(document, root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
