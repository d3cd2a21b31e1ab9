"""The OpenAPI document as the SDKs need it: error answers per route and examples.

Each API declares its error answers (their statuses and its error shape) once for all its routes; each operation
keeps only those its route can give (`api.answers` derives them from the route's dependencies, parameters and
body), so a public read does not claim 401 or 413. FastAPI's own 422 answer (`HTTPValidationError`) is dropped
too: every API's route class renders a validation error in that API's shape (`api.errors`), which the API's
declared answers describe.

Every JSON or form body that declares none gets one built from its schema (a field's own `examples` first, then
its default, its first enum value, then a value of its type and format), so the document shows a body for each of
the operations the SDKs are generated from.

The example is made from the same schema FastAPI publishes, so it can never disagree with it; models that know a
better value say so with `Field(examples=[...])`, which wins here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from pinhole.api.answers import Operations, operation_errors

Json = dict[str, Any]
_EXAMPLED = ("json", "multipart/form-data", "x-www-form-urlencoded")
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_MAX_DEPTH = 16  # only a schema that contains itself goes this deep
IMAGE_ID = "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"
_FORMATS: dict[str, object] = {
    "date-time": "2026-01-31T12:00:00Z",
    "date": "2026-01-31",
    "uuid": IMAGE_ID,
    "uri": f"https://images.example.com/v2/images/{IMAGE_ID}",
    "email": "ada@example.com",
    "binary": "(file bytes)",
}
# Values by field name (lower case), tried whole first, then as the name's ending (`originalBytes`, `albumId`).
_INTEGERS: dict[str, int] = {
    "width": 1200,
    "height": 800,
    "w": 800,
    "h": 600,
    "q": 80,
    "size": 183204,
    "views": 42,
    "limit": 20,
    "page": 1,
    "total": 42,
    "status": 404,
    "frames": 1,
    "expiresin": 3600,
    "expires_in": 3600,
    "timestamp": 1769860800,
    "count": 12,
    "bytes": 10485760,
    "images": 250,
    "albums": 8,
    "avatars": 3,
    "groups": 2,
    "clients": 3,
    "blobs": 240,
    "variants": 960,
}
_STRINGS: dict[str, str] = {
    "id": IMAGE_ID,
    "uuid": IMAGE_ID,
    "url": f"https://images.example.com/v2/images/{IMAGE_ID}",
    "email": "ada@example.com",
    "version": "0.9.0",
    "etag": '"5f1d2c0e9a7b"',
    "key": "ph_4f9c2a7e1b3d8f60192a7c5e",
    "prefix": "ph_4f9c2a",
    "tag": "beach",
    "tags": "beach",
    "mime": "image/jpeg",
    "mimetype": "image/jpeg",
    "format": "jpeg",
    "database": "ok",
    "storage": "ok",
    "formatteddate": "31.01.2026 12:00",
    "filename": "holiday.jpg",
    "name": "Holidays 2026",
    "title": "Beach at dawn",
    "description": "At the sea",
    "username": "ada",
    "displayname": "Ada Lovelace",
    "userid": "user-42",
    "updatedby": "user-42",
    "clientid": "3c9a5e2b-7f41-4d8e-a0c6-1b2d3e4f5a6b",
    "albumid": "0b7c9e0e-5f1a-4c55-9d8a-3e1f2a6b7c8d",
    "groupid": "5e8d1c3a-9b7f-4e2d-8c1a-6f5e4d3c2b1a",
    "cursor": "eyJpZCI6MTJ9",
    "token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
    "password": "correct horse battery staple",
    "at": "2026-01-31T12:00:00Z",
    "ids": IMAGE_ID,
    "imageid": IMAGE_ID,
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` finish the document once, when the document is first built."""
    build: Callable[[], Json] = app.openapi

    def openapi() -> Json:
        if app.openapi_schema is None:
            # A copy: FastAPI's document shares dicts with the routes' module-level `responses`.
            app.openapi_schema = finish(copy.deepcopy(build()), operation_errors(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(document: Json, errors: Operations | None = None) -> Json:
    """Examples everywhere; with `errors` (from `api.answers`), each operation's error answers cut to those its
    route can give, each with the body its API answers (rendered, so it is what the server sends)."""
    schemas: Json = document.get("components", {}).get("schemas", {})
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses: Json = operation.get("responses", {})
            answers = (errors or {}).get((path, method))
            _drop_impossible_answers(responses, answers)
            _drop_default_json(responses)
            for media in _json_media(operation.get("requestBody", {}).get("content", {})):
                media.setdefault("example", example_of(media.get("schema", {}), schemas))
            for status, response in responses.items():
                rendered = (answers or {}).get(status) if status[0] in "45" else None
                for media in _json_media(response.get("content", {})):
                    if rendered is not None:
                        media["example"] = rendered
                    media.setdefault("example", example_of(media.get("schema", {}), schemas))
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return document


def _drop_impossible_answers(responses: Json, possible: Json | None) -> None:
    for status, answer in list(responses.items()):
        if possible is not None and status[0] in "45" and status not in possible:
            del responses[status]
            continue
        refs = {media.get("schema", {}).get("$ref", "") for media in answer.get("content", {}).values()}
        if refs and all(ref.endswith("/HTTPValidationError") for ref in refs):
            del responses[status]


def _drop_default_json(responses: Json) -> None:
    """FastAPI adds `application/json` with an empty schema to a route's answer that documents image bytes; such
    a route never answers that JSON."""
    for answer in responses.values():
        content: Json = answer.get("content", {})
        if len(content) > 1 and content.get("application/json", {}).get("schema") == {}:
            del content["application/json"]


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


def _by_name(table: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    if lowered in table:
        return table[lowered]
    endings = [hint for hint in table if lowered.endswith(hint) and len(hint) > 2]
    return table[max(endings, key=len)] if endings else None


def _integer(schema: Json, name: str) -> int:
    found = _by_name(_INTEGERS, name)
    value = found if isinstance(found, int) else 1
    if "minimum" in schema:
        value = max(value, int(schema["minimum"]))
    if "maximum" in schema:
        value = min(value, int(schema["maximum"]))
    return value


def _string(schema: Json, name: str) -> str:
    if schema.get("format") in _FORMATS:
        return str(_FORMATS[schema["format"]])
    found = _by_name(_STRINGS, name)
    value = found if isinstance(found, str) else name or "text"
    return value[: schema["maxLength"]] if "maxLength" in schema else value
