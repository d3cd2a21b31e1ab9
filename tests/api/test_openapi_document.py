"""The OpenAPI document the SDKs are generated from: every operation has a stable, readable operationId made from
its route name, a summary, an example for each JSON body, and its API's error answers in that API's shape."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import TypeAdapter

from pinhole.api.mounting import operation_id
from pinhole.api.openapi_document import finish
from pinhole.app import create_app
from pinhole.settings import Settings

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi") / "data"))


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(document: dict[str, Any]) -> list[Operation]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def _routes(app: FastAPI) -> list[RouteContext]:
    """The app's documented routes with their prefixes applied (FastAPI includes routers lazily)."""
    paths = app.openapi()["paths"]
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and context.original_route.include_in_schema
        and context.path_format in paths
    ]


def test_every_operation_id_is_its_route_name(app: FastAPI, document: dict[str, Any]) -> None:
    found = {(method.upper(), path): op["operationId"] for method, path, op in _operations(document)}
    for route in _routes(app):
        for method in route.methods or ():
            base = operation_id(route.name or "", route.methods or ())
            # slink uploads declare POST and PUT as two routes of one name: each gets its method as a suffix.
            assert found[method, route.path_format or ""] in {base, f"{base}_{method.lower()}"}
    assert len(found) == len(_routes(app)) > 100  # every documented route of every API
    ids = list(found.values())
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", name) for name in ids), ids
    assert found["GET", "/v2/images"] == "v2_images_list"
    assert found["HEAD", "/v2/images/{image_id}"] == "v2_images_serve_head"
    assert found["POST", "/api/upload"] == "slink_upload_post"


def test_every_operation_has_a_summary_and_an_example_for_each_json_body(document: dict[str, Any]) -> None:
    missing = []
    for method, path, op in _operations(document):
        if not op.get("summary"):
            missing.append(f"{method} {path}: summary")
        bodies = {"request": op.get("requestBody", {})} | dict(op["responses"])
        for where, body in bodies.items():
            for kind, media in body.get("content", {}).items():
                if kind.endswith(("json", "form-data")) and "example" not in media and "examples" not in media:
                    missing.append(f"{method} {path}: {where} {kind}")
    assert not missing


def test_examples_are_valid_bodies(app: FastAPI, document: dict[str, Any]) -> None:
    """Each success example validates against the route's response model (so an SDK can parse it)."""
    checked = 0
    for context in _routes(app):
        route = context.original_route
        assert isinstance(route, APIRoute)
        if route.response_model is None or route.methods == {"HEAD"}:
            continue
        method = sorted(route.methods or ())[0].lower()
        responses = document["paths"][context.path_format][method]["responses"]
        success = next(code for code in responses if code.startswith("2"))
        example = responses[success]["content"]["application/json"]["example"]
        TypeAdapter(route.response_model).validate_python(example)
        checked += 1
    assert checked > 60


def _error_model(dialect: str) -> set[str]:
    module = importlib.import_module(f"pinhole.dialects.{dialect}.errors")
    return {answer["model"].__name__ for answer in module.ERROR_RESPONSES.values()}


def test_every_operation_lists_its_error_answers_in_its_apis_shape(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        (dialect,) = op["tags"]
        errors = {code: answer for code, answer in op["responses"].items() if code[0] in "45"}
        assert {"401", "404", "429"} <= set(errors), (method, path, sorted(errors))
        for code, answer in errors.items():
            refs = {media["schema"]["$ref"].rsplit("/", 1)[-1] for media in answer.get("content", {}).values()}
            assert refs <= _error_model(dialect), (method, path, code, refs)
            assert refs, (method, path, code)
        if "requestBody" not in op:
            assert not {"413", "415"} & set(errors), (method, path)
    assert {code for _, _, op in _operations(document) if "requestBody" in op for code in op["responses"]} >= {"413"}


def test_a_document_without_examples_gets_them_from_field_examples() -> None:
    schemas = {"Thing": {"type": "object", "properties": {"code": {"type": "string", "examples": ["image_gone"]}}}}
    media: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Thing"}}
    answer = {"content": {"application/json": media}}
    document = {"components": {"schemas": schemas}, "paths": {"/x": {"get": {"responses": {"200": answer}}}}}
    finish(document)
    assert media["example"] == {"code": "image_gone"}
