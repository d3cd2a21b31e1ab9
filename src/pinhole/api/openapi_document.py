"""The OpenAPI document as the SDKs need it: error answers per route and examples.

Each API declares its error answers once for all its routes; a route without a request body cannot answer 413
(file too large) or 415 (not an accepted image format), so those are dropped from its operation. FastAPI's own
422 answer (`HTTPValidationError`) is dropped too: every API's route class renders a validation error in that API's
shape (`api.errors`), which the API's declared answers describe.

Every JSON or form body that declares none gets one built from its schema (a field's own `examples` first, then
its default, its first enum value, then a value of its type and format), so the document shows a body for each of
the operations the SDKs are generated from.

The example is made from the same schema FastAPI publishes, so it can never disagree with it; models that know a
better value say so with `Field(examples=[...])`, which wins here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

Json = dict[str, Any]
_BODY_ERRORS = ("413", "415")
_EXAMPLED = ("json", "multipart/form-data", "x-www-form-urlencoded")
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_MAX_DEPTH = 16  # only a schema that contains itself goes this deep
_FORMATS: dict[str, object] = {
    "date-time": "2026-01-31T12:00:00Z",
    "date": "2026-01-31",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://images.example.com/v2/images/img_8f3a2c",
    "email": "ada@example.com",
    "binary": "(file bytes)",
}
_INTEGERS: dict[str, int] = {"width": 1200, "height": 800, "size": 183204, "views": 42, "limit": 20, "status": 404}
_STRINGS: dict[str, str] = {
    "id": "img_8f3a2c",
    "name": "holiday",
    "title": "Beach at dawn",
    "url": "https://images.example.com/v2/images/img_8f3a2c",
    "mime": "image/jpeg",
    "format": "jpeg",
    "cursor": "eyJpZCI6MTJ9",
    "token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
    "password": "correct horse battery staple",
    "username": "ada",
    "tags": "beach",
    "description": "At the sea",
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` finish the document once, when the document is first built."""
    build: Callable[[], Json] = app.openapi

    def openapi() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = finish(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(document: Json) -> Json:
    schemas: Json = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for operation in item.values():
            body = operation.get("requestBody", {})
            _drop_impossible_answers(operation.get("responses", {}), has_body=bool(body))
            for media in _json_media(body.get("content", {})):
                media.setdefault("example", example_of(media.get("schema", {}), schemas))
            for response in operation.get("responses", {}).values():
                for media in _json_media(response.get("content", {})):
                    media.setdefault("example", example_of(media.get("schema", {}), schemas))
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return document


def _drop_impossible_answers(responses: Json, *, has_body: bool) -> None:
    for status in [] if has_body else _BODY_ERRORS:
        responses.pop(status, None)
    for status, answer in list(responses.items()):
        refs = {media.get("schema", {}).get("$ref", "") for media in answer.get("content", {}).values()}
        if refs and all(ref.endswith("/HTTPValidationError") for ref in refs):
            del responses[status]


def _json_media(content: Json) -> list[Json]:
    """Bodies that take an example: JSON, and forms (an upload's fields, its files shown as `(file bytes)`)."""
    return [media for kind, media in content.items() if kind.endswith(_EXAMPLED) and "examples" not in media]


def example_of(schema: Json, schemas: Json, *, name: str = "", depth: int = 0) -> Any:
    """A value that validates against `schema` (components resolved from `schemas`)."""
    if "$ref" in schema:
        if depth > _MAX_DEPTH:
            return None
        return example_of(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, name=name, depth=depth + 1)
    for key in ("example", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("default") is not None:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [option for option in schema[key] if option.get("type") != "null"] or schema[key]
            return example_of(options[0], schemas, name=name, depth=depth)
    if "allOf" in schema:
        return example_of(schema["allOf"][0], schemas, name=name, depth=depth)
    return _typed(schema, schemas, name, depth)


def _typed(schema: Json, schemas: Json, name: str, depth: int) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties: Json = schema.get("properties", {})
        return {key: example_of(value, schemas, name=key, depth=depth + 1) for key, value in properties.items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), schemas, name=name, depth=depth + 1)]
    if kind == "integer":
        return _integer(schema, name)
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)


def _integer(schema: Json, name: str) -> int:
    value = _INTEGERS.get(name, 1)
    if "minimum" in schema:
        value = max(value, int(schema["minimum"]))
    if "maximum" in schema:
        value = min(value, int(schema["maximum"]))
    return value


def _string(schema: Json, name: str) -> str:
    if schema.get("format") in _FORMATS:
        return str(_FORMATS[schema["format"]])
    lowered = name.lower()
    for hint, value in _STRINGS.items():
        if lowered == hint.lower() or lowered.endswith(hint.lower()):
            return value
    return name or "text"
