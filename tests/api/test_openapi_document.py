"""The OpenAPI document the SDKs are generated from: every operation has a stable, readable operationId made from
its route name, a summary, an example for each JSON body, and its API's error answers in that API's shape."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from jsonschema import Draft202012Validator
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
        assert "429" in errors, (method, path, sorted(errors))  # every API's router counts rate limits
        for code, answer in errors.items():
            refs = {media["schema"]["$ref"].rsplit("/", 1)[-1] for media in answer.get("content", {}).values()}
            assert refs <= _error_model(dialect), (method, path, code, refs)
            assert refs, (method, path, code)
        declares_a_length = any(param["name"] == "Upload-Length" for param in op.get("parameters", ()))
        if "requestBody" not in op and not declares_a_length:
            assert not {"413", "415"} & set(errors), (method, path)
        if not any(param["in"] == "path" for param in op.get("parameters", ())):
            assert "404" not in errors, (method, path)  # 404 only where an id is read
    assert {code for _, _, op in _operations(document) if "requestBody" in op for code in op["responses"]} >= {"413"}


def _errors(document: dict[str, Any], method: str, path: str) -> set[str]:
    return {code for code in document["paths"][path][method]["responses"] if code[0] in "45"}


def test_a_read_only_public_route_claims_no_upload_or_credential_errors(document: dict[str, Any]) -> None:
    """What a route can answer comes from what it declares: a public read has no body, needs no key and reads
    no id, so it cannot be too large, of the wrong type, forbidden or missing."""
    status = _errors(document, "get", "/v2/status")
    assert not {"403", "404", "413", "415", "422"} & status, status
    assert {"429", "503"} <= status
    served = _errors(document, "get", "/v2/images/{image_id}")  # public (signed) delivery: reads an id
    assert not {"413", "415", "422"} & served, served
    assert {"400", "403", "404", "429"} <= served  # a bad option, a missing signature, no such image
    slink_file = _errors(document, "get", "/api/image/{file}")
    assert not {"403", "422"} & slink_file, slink_file


def test_credentials_admin_checks_and_uploads_add_their_answers(document: dict[str, Any]) -> None:
    assert {"401", "403"} <= _errors(document, "get", "/v2/admin/settings")  # an admin account is checked
    assert "401" not in _errors(document, "post", "/v2/auth/login")  # signing in checks no credential
    assert {"413", "415", "422", "403"} <= _errors(document, "post", "/v2/images")  # size, type, decoding, quota
    assert "403" not in _errors(document, "get", "/v2/account/keys")  # a read: no CSRF check, no ownership
    # uploadkey answers every upload refusal with 400, so its upload documents 400 and not pinhole's 413/415.
    upload = _errors(document, "post", "/uploadkey/api/upload")
    assert "400" in upload
    assert not {"413", "415"} & upload


def test_error_examples_are_what_the_server_answers(app: FastAPI, document: dict[str, Any]) -> None:
    answer = document["paths"]["/v2/images"]["post"]["responses"]["413"]["content"]["application/json"]["example"]
    assert answer["error"]["code"] == "file_too_large"
    assert answer["error"]["status"] == 413
    album = document["paths"]["/v2/albums/{album_id}"]["get"]["responses"]["404"]["content"]["application/json"]
    assert album["example"]["error"]["code"] == "album_not_found"
    slink = document["paths"]["/api/upload"]["post"]["responses"]["422"]["content"]["application/json"]["example"]
    assert slink["error"]["message"] == "Validation Error"


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    """Request, success and error examples alike (an SDK parses them; docs show them)."""
    checked = 0
    problems = []
    for method, path, op in _operations(document):
        bodies = {"request": op.get("requestBody", {})} | dict(op["responses"])
        for where, body in bodies.items():
            for kind, media in body.get("content", {}).items():
                if "example" not in media or "schema" not in media:
                    continue
                schema = media["schema"] | {"components": document["components"]}
                for error in Draft202012Validator(schema).iter_errors(media["example"]):
                    problems.append(f"{method} {path} {where} {kind}: {error.json_path}: {error.message}")
                checked += 1
    assert not problems, "\n".join(problems[:40])
    assert checked > 500


def test_a_document_without_examples_gets_them_from_field_examples() -> None:
    schemas = {"Thing": {"type": "object", "properties": {"code": {"type": "string", "examples": ["image_gone"]}}}}
    media: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Thing"}}
    answer = {"content": {"application/json": media}}
    document = {"components": {"schemas": schemas}, "paths": {"/x": {"get": {"responses": {"200": answer}}}}}
    finish(document)
    assert media["example"] == {"code": "image_gone"}


def test_a_raised_kind_without_a_sample_is_still_documented() -> None:
    from pinhole.api.answers import _plain
    from pinhole.errors import ExpiredSignature, UploadGone

    class NeedsMore(UploadGone):
        def __init__(self, message: str, *, upload_id: str) -> None:
            super().__init__(message, details={"upload": upload_id})

    assert _plain(NeedsMore).status == 410
    assert _plain(ExpiredSignature).code == "expired_signature"
