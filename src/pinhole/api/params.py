"""Reading loosely typed request values (form fields, raw query strings) the same way in every API."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from pinhole.api.errors import from_validation_error
from pinhole.errors import InvalidInput, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

# Documented bounds of the transform parameters every API takes (w, h, q). The transform parser enforces them with
# each API's own error (the largest side is the server's `imaging.max_output_width`/`_height`, 8192 by default),
# so they are stated in the OpenAPI document here rather than validated a second time by FastAPI.
SIDE_BOUNDS: dict[str, Any] = {"minimum": 1, "maximum": 8192}
QUALITY_BOUNDS: dict[str, Any] = {"minimum": 1, "maximum": 100}

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def flag(value: str) -> bool | None:
    """True/False for the usual spellings of a boolean, None for anything else."""
    lowered = value.strip().lower()
    return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else None


def parse_bool(value: str | None, *, field: str) -> bool:
    """A boolean form field: absent or empty is False, an unknown spelling is a 400 naming the field."""
    if value is None or not value.strip():
        return False
    parsed = flag(value)
    if parsed is None:
        raise InvalidInput(f"{field} must be true or false.", field=field)
    return parsed


def is_json(request: Request) -> bool:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json"


async def read_json(request: Request, model: type[M], *, max_bytes: int = 65536) -> M:
    """A small JSON body validated as `model`, for routes that read their body themselves (FastAPI does not, where
    the body may be a multipart form instead); errors are the API's own 400, an oversized body 413."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise PayloadTooLarge(f"The JSON body is larger than {max_bytes} bytes.")
    try:
        return model.model_validate_json(bytes(raw))
    except ValidationError as error:
        raise from_validation_error(RequestValidationError(error.errors())) from None


def multipart_body(properties: dict[str, dict[str, Any]], *, required: list[str]) -> dict[str, Any]:
    """`openapi_extra` documenting a multipart form (routes read such forms with the streaming reader, not FastAPI)."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def multipart_fields(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The field schemas of a `multipart_body`, to build a larger form from it."""
    fields: dict[str, dict[str, Any]] = body["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    return fields
