"""What the generators need from the OpenAPI document: the v2 operations and the schemas they use.

Types stay JSON Schema fragments; each generator spells them in its language. Header parameters (the API key,
`X-User-Id`) are the client's configuration, not method arguments; HEAD twins of GET routes are left out.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
API = "v2"


@dataclass(frozen=True)
class Param:
    wire: str  # as the query or path spells it
    name: str  # as a method argument: snake_case, never a keyword
    schema: Json
    required: bool
    where: str  # path or query


@dataclass(frozen=True)
class Operation:
    id: str  # v2_images_list
    method: str
    path: str
    summary: str
    params: tuple[Param, ...]
    body: str | None  # json, multipart or None
    body_schema: Json | None
    result: Json | None  # the success body's schema; None: no body (204)
    binary: bool  # the success answer can be image bytes

    @property
    def name(self) -> str:
        return self.id.removeprefix(f"{API}_")


@dataclass(frozen=True)
class Spec:
    title: str
    version: str
    operations: tuple[Operation, ...]
    models: dict[str, Json]  # the component schemas the operations use, by name


def snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()
    return f"{text}_" if keyword.iskeyword(text) else text


def read_spec(document: Json) -> Spec:
    operations = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "head" or op.get("tags") != [API]:
                continue
            operations.append(_operation(path, method, op))
    operations.sort(key=lambda operation: operation.id)
    schemas: Json = document.get("components", {}).get("schemas", {})
    used: set[str] = set()
    for operation in operations:
        for schema in (operation.result, operation.body_schema, *(param.schema for param in operation.params)):
            if schema is not None:
                _collect(schema, schemas, used)
    models = {name: schemas[name] for name in sorted(used)}
    info = document.get("info", {})
    title, version = info.get("title", ""), info.get("version", "")
    return Spec(title=title, version=version, operations=tuple(operations), models=models)


def _operation(path: str, method: str, op: Json) -> Operation:
    params = tuple(
        Param(p["name"], snake(p["name"]), p.get("schema", {}), bool(p.get("required")), p["in"])
        for p in op.get("parameters", [])
        if p["in"] in ("path", "query")
    )
    content: Json = op.get("requestBody", {}).get("content", {})
    # An upload also taking JSON (a `url` instead of a file) is a multipart operation to the SDKs: files go that way.
    body = "multipart" if "multipart/form-data" in content else "json" if "application/json" in content else None
    success: Json = next((answer for code, answer in sorted(op["responses"].items()) if code.startswith("2")), {})
    answers: Json = success.get("content", {})
    result = answers.get("application/json", {}).get("schema")
    return Operation(
        id=op["operationId"],
        method=method.upper(),
        path=path,
        summary=op.get("summary", ""),
        params=params,
        body=body,
        body_schema=content.get("application/json", {}).get("schema") if body == "json" else None,
        result=result,
        binary=any(kind.startswith("image/") for kind in answers),
    )


def ref_name(schema: Json) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _collect(schema: Any, schemas: Json, used: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _collect(item, schemas, used)
    elif isinstance(schema, dict):
        name = ref_name(schema)
        if name is not None and name not in used:
            used.add(name)
            _collect(schemas[name], schemas, used)
        for value in schema.values():
            if isinstance(value, dict | list):
                _collect(value, schemas, used)
