"""The SDKs never drift from the API: their generated layer is regenerated from the app's current OpenAPI
document and must equal what is committed (`python -m pinhole.sdkgen` rewrites it)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from pinhole.app import create_app
from pinhole.sdkgen import OUTPUTS, drift, render
from pinhole.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("drift") / "data")).openapi()


def test_committed_sdks_match_the_current_api(document: dict[str, Any]) -> None:
    assert drift(document, ROOT) == [], "the API changed: run `.venv/bin/python -m pinhole.sdkgen` and commit"


def test_a_schema_change_without_regenerating_is_caught(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["ImagePublic"]["properties"]["blurhash"] = {"type": "string"}
    params = changed["paths"]["/v2/images"]["get"]["parameters"]
    params.append({"name": "colour", "in": "query", "required": False, "schema": {"type": "string"}})
    assert sorted(drift(changed, ROOT)) == sorted(str(path) for path in OUTPUTS.values())
    made = render(changed)
    assert "    blurhash: NotRequired[str]" in made[OUTPUTS["python"]]
    assert '"colour": colour' in made[OUTPUTS["python"]]
    assert '"blurhash"?: string;' in made[OUTPUTS["typescript"]]


def test_every_v2_operation_is_a_method(document: dict[str, Any]) -> None:
    from pinhole_client import AsyncClient, Client

    ids = [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if op["tags"] == ["v2"] and method != "head"
    ]
    assert len(ids) > 60
    for operation_id in ids:
        name = operation_id.removeprefix("v2_")
        assert callable(getattr(Client, name)), name
        assert callable(getattr(AsyncClient, name)), name
