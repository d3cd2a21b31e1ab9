"""Log lines through the real app: JSON objects with the request's fields; warnings and errors carry its id."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pinhole.db.models import Image
from pinhole.observability.access import AccessRecord, access_record
from pinhole.observability.context import RequestContext
from pinhole.observability.logging import (
    ACCESS_LOGGER,
    BufferedStreamHandler,
    ContextFilter,
    JsonFormatter,
    TextFormatter,
    redact,
)
from pinhole.runtime import Runtime
from pinhole.storage.keys import original_key
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio

ACCESS_FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "pid",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "bytes",
    "dialect",
    "route",
    "principal_kind",
    "principal_id",
    "client",
}


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


ACCESS_ON = pytest.mark.parametrize("settings_overrides", [{"log": {"access": True}}])


@ACCESS_ON
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
    assert len(access) >= 3  # the upload, the broken render, the probe of the test client's requests
    for line in access:
        assert line.keys() >= ACCESS_FIELDS, line
        assert isinstance(line["status"], int)
        assert isinstance(line["duration_ms"], float)
        assert isinstance(line["bytes"], int)
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


async def test_the_access_log_is_off_by_default(http: httpx.AsyncClient, json_log: io.StringIO) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert [line for line in _lines(json_log) if line["logger"] == ACCESS_LOGGER] == []


@ACCESS_ON
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


def _access(path: str = "/v2/images/abc", **params: str) -> AccessRecord:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": path, "client": ("192.0.2.7", 1)}
    scope |= {"path_params": params, "state": {}}
    return access_record(RequestContext("req-1", scope), scope, 200, 0.0123, 512, "v2", "images.serve")


def test_an_access_line_is_the_json_object_a_plain_record_would_make() -> None:
    """The access formatter's fast path puts the line together by hand: it must say what `json` would."""
    record = _access()
    record.request_id = "req-1"
    plain = logging.makeLogRecord({k: v for k, v in record.__dict__.items() if k != "fields"})
    plain.request_id = "req-1"
    fast = JsonFormatter().format(record)
    assert json.loads(fast) == json.loads(JsonFormatter().format(plain))
    assert json.loads(fast) | {"time": ""} == {
        "time": "",
        "level": "info",
        "logger": ACCESS_LOGGER,
        "message": "GET /v2/images/abc 200 12.3ms",
        "pid": os.getpid(),
        "request_id": "req-1",
        "method": "GET",
        "path": "/v2/images/abc",
        "status": 200,
        "duration_ms": 12.3,
        "bytes": 512,
        "dialect": "v2",
        "route": "images.serve",
        "principal_kind": "anonymous",
        "principal_id": "",
        "client": "192.0.2.7",
    }
    record.created = 1_700_000_000.5
    assert json.loads(JsonFormatter().format(record))["time"] == "2023-11-14T22:13:20.500+00:00"


def test_an_access_line_masks_secret_parameters_and_escapes_the_path() -> None:
    masked = json.loads(JsonFormatter().format(_access("/s/shr_abcdefgh12345678", token="shr_abcdefgh12345678")))
    assert masked["path"] == "/s/***"
    odd = json.loads(JsonFormatter().format(_access('/v2/"quoted"\\/ünï')))
    assert odd["path"] == '/v2/"quoted"\\/ünï'
    unmatched = json.loads(JsonFormatter().format(_access("/nothing/phk_AbCdEf0123456789xyz")))
    assert "AbCdEf0123456789xyz" not in json.dumps(unmatched)


def test_the_buffered_handler_writes_in_batches_and_on_flush() -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, capacity=3, seconds=60)
    handler.setFormatter(JsonFormatter())
    for _ in range(2):
        handler.handle(_access())
    assert stream.getvalue() == ""  # held: fewer than `capacity` lines, none a minute old
    handler.handle(_access())
    assert len(stream.getvalue().splitlines()) == 3
    handler.handle(_access())
    handler.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert all(json.loads(line)["route"] == "images.serve" for line in lines)
    late = _access()
    handler.handle(_access())
    late.created += 5
    handler.seconds = 1
    handler.handle(late)  # the oldest waiting line is older than `seconds`: both are written
    assert len(stream.getvalue().splitlines()) == 6
