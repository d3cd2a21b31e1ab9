"""The shape of the HTTP half: every API is a package under `pinhole.dialects` that only its own modules import
(the `DIALECTS` registry aside); what several APIs share lives in `pinhole.api`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pinhole

ROOT = Path(pinhole.__file__).parent
REGISTRY = "pinhole.dialects"  # `pinhole/dialects/__init__.py` lists the APIs, so it imports each one


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def api_packages(root: Path = ROOT) -> set[str]:
    dialects = root / "dialects"
    return {f"pinhole.dialects.{child.name}" for child in dialects.iterdir() if (child / "__init__.py").exists()}


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports, relative imports resolved, `from x import y` also as `x.y`."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _owner(imported: str, packages: set[str]) -> str | None:
    return next((pkg for pkg in packages if imported == pkg or imported.startswith(pkg + ".")), None)


def violations(root: Path = ROOT) -> list[str]:
    packages = api_packages(root)
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module(path, root)
        if module == REGISTRY:
            continue
        for imported in sorted(_imports(path, module)):
            owner = _owner(imported, packages)
            if owner is not None and _owner(module, packages) != owner:
                found.append(f"{module} imports {imported}")
    return found


def test_the_api_packages_are_found() -> None:
    assert {"pinhole.dialects.v2", "pinhole.dialects.slink"} <= api_packages()


def test_no_module_imports_another_apis_package() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from pinhole.dialects.v2.transform import ServeQuery\n", True),
        ("from pinhole.dialects import v2\n", True),
        ("import pinhole.dialects.v2.images\n", True),
        ("from pinhole.api.principals import OptionalPrincipal\n", False),
        ("from pinhole.dialects.slink import images\n", False),  # its own package
    ],
)
def test_the_walk_catches_an_import_of_another_api(tmp_path: Path, source: str, bad: bool) -> None:
    """A copy of the package with one more module in slink (its own package) and one in `api/`."""
    copy = tmp_path / "pinhole"
    (copy / "dialects" / "slink").mkdir(parents=True)
    (copy / "dialects" / "v2").mkdir(parents=True)
    (copy / "api").mkdir(parents=True)
    for init in ("__init__.py", "dialects/__init__.py", "dialects/slink/__init__.py", "dialects/v2/__init__.py"):
        (copy / init).write_text("")
    (copy / "api" / "__init__.py").write_text("")
    (copy / "dialects" / "slink" / "extra.py").write_text(source)
    (copy / "api" / "extra.py").write_text(source)
    found = violations(copy)
    # From `api/` every API package is off limits; from slink only the others are.
    into_an_api = source.startswith(("from pinhole.dialects", "import pinhole.dialects"))
    assert any(line.startswith("pinhole.api.extra ") for line in found) == into_an_api
    assert any(line.startswith("pinhole.dialects.slink.extra ") for line in found) == bad
