"""Log lines through the real app: JSON objects with the request's fields; warnings and errors carry its id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pinhole.db.models import Image
from pinhole.observability.logging import ACCESS_LOGGER, ContextFilter, JsonFormatter, TextFormatter, redact
from pinhole.runtime import Runtime
from pinhole.storage.keys import original_key
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The server's handler (context filter + JSON formatter) on pinhole's loggers, writing to a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("pinhole"), logging.getLogger(ACCESS_LOGGER)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_every_line_is_json_and_errors_carry_the_request_id(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, json_log: io.StringIO
) -> None:
    image = await upload(http, tenant, make_jpeg(64, 48))
    await runtime.store.delete(original_key(await _content_hash(runtime, image["id"])))
    broken = await http.get(f"/v2/images/{image['id']}", params={"w": 10})
    request_id = broken.headers["x-request-id"]
    lines = _lines(json_log)
    errors = [line for line in lines if line["level"] in ("warning", "error")]
    assert errors, lines
    assert all(line.get("request_id") for line in errors)
    assert any(line["request_id"] == request_id and "missing" in line["message"] for line in errors)
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    upload_line = next(line for line in access if line["route"] == "images.upload")
    assert upload_line | {"duration_ms": 0, "request_id": "", "pid": 0, "time": ""} == upload_line | {
        "method": "POST",
        "path": "/v2/images",
        "status": 201,
        "dialect": "v2",
        "principal_kind": "client_key",
        "principal_id": tenant.id,
        "duration_ms": 0,
        "request_id": "",
        "pid": 0,
        "time": "",
    }
    assert upload_line["bytes"] > 0
    assert tenant.key not in json_log.getvalue()


async def _content_hash(runtime: Runtime, image_id: str) -> str:
    async with runtime.db.reader() as session:
        found = await session.scalar(select(Image.content_hash).where(Image.id == image_id))
    assert found is not None
    return found


@pytest.mark.parametrize("settings_overrides", [{"log": {"access": False}}])
async def test_the_access_log_can_be_turned_off(http: httpx.AsyncClient, json_log: io.StringIO) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert [line for line in _lines(json_log) if line["logger"] == ACCESS_LOGGER] == []


async def test_share_tokens_in_paths_are_masked(
    http: httpx.AsyncClient, tenant: ApiClient, json_log: io.StringIO
) -> None:
    image = await upload(http, tenant, fields={"is_private": "true"})
    shared = await http.post(f"/v2/images/{image['id']}/share", headers=tenant.headers())
    assert shared.status_code == 201, shared.text
    token = shared.json()["token"]
    await http.get(shared.json()["url"].replace("http://testserver", ""))
    text = json_log.getvalue()
    assert token not in text
    assert "***" in text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("client key phk_AbCdEf0123456789xyz", "AbCdEf0123456789xyz"),
        ("personal sk_0123456789abcdefXYZ used", "0123456789abcdefXYZ"),
        ("redis://:hunter2-secret@redis:6379/0 down", "hunter2-secret"),
        ("postgresql://pinhole:s3cr3t-pw@db/pinhole", "s3cr3t-pw"),
        ("Authorization: Bearer opaque-token-value", "opaque-token-value"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl", "c2lnbmF0dXJlLXZhbHVl"),
    ],
)
def test_redact_masks_credentials(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_text_lines_name_the_request() -> None:
    record = logging.LogRecord("pinhole.x", logging.WARNING, __file__, 1, "something odd", (), None)
    record.request_id = "abc123"
    assert TextFormatter().format(record).endswith("something odd [request abc123]")
