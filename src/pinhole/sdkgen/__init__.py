"""The SDKs' generated layer, made from the app's OpenAPI document: typed models and one method per v2 operation
for the Python SDK (`clients/python/src/pinhole_client/_generated.py`) and the TypeScript SDK
(`clients/typescript/src/generated.ts`). Run `python -m pinhole.sdkgen` after changing a v2 route or schema;
`tests/clients/test_drift.py` fails until you do.

Why not openapi-python-client: its output (0.29, tried on this document) is clean and httpx-based, but every model
is an `attrs` class, so the SDK would depend on attrs besides httpx; the SDKs' rule is httpx only (Python) and
fetch only (TypeScript). The document is plain enough (objects, arrays, enums, nullables) for a small generator
that writes TypedDicts and TypeScript interfaces, and one generator keeps both SDKs in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pinhole.sdkgen import python, typescript
from pinhole.sdkgen.spec import read_spec

__all__ = ["OUTPUTS", "drift", "render", "write"]

OUTPUTS = {
    "python": Path("clients/python/src/pinhole_client/_generated.py"),
    "typescript": Path("clients/typescript/src/generated.ts"),
}


def render(document: dict[str, Any]) -> dict[Path, str]:
    spec = read_spec(document)
    return {OUTPUTS["python"]: python.render(spec), OUTPUTS["typescript"]: typescript.render(spec)}


def drift(document: dict[str, Any], root: Path) -> list[str]:
    """The generated files under `root` that differ from what `document` makes."""
    return [str(path) for path, text in render(document).items() if _read(root / path) != text]


def write(document: dict[str, Any], root: Path) -> list[Path]:
    written = []
    for path, text in render(document).items():
        if _read(root / path) != text:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
            written.append(path)
    return written


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
