"""The docs against the code: every route of every API is listed in its section of docs/apis.md."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI

from pinhole.app import create_app
from pinhole.dialects import DIALECTS
from pinhole.settings import Settings

APIS = Path(__file__).resolve().parents[1] / "docs" / "apis.md"
_PARAM = re.compile(r"{[^}]*}")
_PATH_CHAR = r"[A-Za-z0-9_/{}.\-]"


def _app_with_every_api(tmp_path: Path) -> FastAPI:
    """Every API enabled, each at its default prefix."""
    defaults = Settings(data_dir=tmp_path)
    mounts = {dialect.name: {"enabled": True, "prefix": dialect.mount(defaults).prefix} for dialect in DIALECTS}
    return create_app(Settings(data_dir=tmp_path, dialects=mounts))


def _sections(text: str) -> dict[str, str]:
    """The text under each `## <api> ...` heading, by the heading's first word (`## v2 routes` joins `v2`)."""
    sections: dict[str, str] = {}
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        name = heading.split()[0]
        sections[name] = sections.get(name, "") + body
    return sections


def _normal(path: str) -> str:
    return _PARAM.sub("{}", path)


def _listed(section: str, method: str, path: str) -> bool:
    """A line of the section names the path (parameter names aside) and the method."""
    pattern = re.compile(rf"(?<!{_PATH_CHAR}){re.escape(_normal(path))}(?!{_PATH_CHAR})")
    return any(pattern.search(_normal(line)) and re.search(rf"\b{method}\b", line) for line in section.splitlines())


def test_every_route_is_listed_in_its_api_section(tmp_path: Path) -> None:
    sections = _sections(APIS.read_text())
    unlisted: list[str] = []
    routes = 0
    for path, item in _app_with_every_api(tmp_path).openapi()["paths"].items():
        for method, operation in item.items():
            [api] = operation["tags"]
            routes += 1
            if not _listed(sections.get(api, ""), method.upper(), path):
                unlisted.append(f"{api}: {method.upper()} {path}")
    assert routes > 100  # every API is mounted
    assert unlisted == []


def test_the_check_finds_a_route_that_is_not_listed() -> None:
    section = "| `GET`, `HEAD` | `/v2/images/{id}` | serve |\n| `POST` | `/v2/images` | upload |"
    assert _listed(section, "HEAD", "/v2/images/{image_id}")
    assert _listed(section, "POST", "/v2/images")
    assert not _listed(section, "DELETE", "/v2/images/{image_id}")
    assert not _listed(section, "GET", "/v2/images/{image_id}/share")
    assert not _listed(section, "GET", "/v2")


def test_docs_point_at_nothing_outside_the_repository() -> None:
    """The API documents pinhole imitates are not in this repository: docs name them, never their files."""
    root = APIS.parents[1]
    pages = [root / "README.md", root / "CHANGELOG.md", *sorted((root / "docs").glob("*.md"))]
    outside = re.compile(r"shared/seeds|\bseed 00\d|\b00\d_[0-9a-f]{16}\.txt")
    found = [f"{page.name}: {match.group()}" for page in pages for match in outside.finditer(page.read_text())]
    assert found == []
