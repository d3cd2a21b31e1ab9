"""Log lines: one JSON object per line (`PINHOLE_LOG__FORMAT=json`) or readable text, each with its request id.

`ContextFilter` puts the request's id (and trace id, when traced) on every record logged while serving it, so every
warning and error names its request. Every line passes `redact()` last: credentials pinhole hands out (keys,
tokens, JWTs) and passwords in URLs are masked even if a message or an exception were to carry one.
"""

from __future__ import annotations

import datetime
import json
import logging
import logging.config
import sys
from typing import Any

from pinhole.observability.access import ACCESS_LOGGER, AccessRecord
from pinhole.observability.context import current_request
from pinhole.observability.redaction import redact
from pinhole.observability.tracing import trace_ids
from pinhole.settings import LogSettings

__all__ = ["ACCESS_LOGGER", "BufferedStreamHandler", "ContextFilter", "JsonFormatter", "TextFormatter", "redact"]
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_CONTEXT_FIELDS = ("request_id", "trace_id", "span_id")


class ContextFilter(logging.Filter):
    """Adds `request_id` (and `trace_id`, `span_id`) of the request being served to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = current_request.get()
        record.request_id = found.request_id if found is not None else None
        ids = trace_ids() if found is not None else None
        record.trace_id, record.span_id = ids if ids is not None else (None, None)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and key not in _CONTEXT_FIELDS}


_encode = json.JSONEncoder(default=str, ensure_ascii=False).encode  # built once (json.dumps with options builds one)
_string: Any = json.encoder.encode_basestring  # a JSON string literal (C), as the encoder writes it


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")  # the last whole second and its ISO text, swapped atomically

    def _time(self, created: float) -> str:
        """`datetime.isoformat(timespec="milliseconds")` in UTC, the date part formatted once a second."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            text = datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cached = self._second = (second, text)
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        if type(record) is AccessRecord:
            return self._access_line(record)
        payload: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key in _CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                payload[key] = value
        payload.update(_fields(record))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return redact(_encode(payload))

    def _access_line(self, record: AccessRecord) -> str:
        """An access record's line, put together from its known fields (a third of the cost of encoding a dict);
        the same JSON object `format` would make. Its text was redacted when the record was made."""
        fields = record.fields
        context = "".join(
            f', "{key}": {_string(value)}' for key in _CONTEXT_FIELDS if (value := getattr(record, key, None))
        )
        client = fields["client"]
        return (
            f'{{"time": "{self._time(record.created)}", "level": "{record.levelname.lower()}", '
            f'"logger": "{record.name}", "message": {_string(record.getMessage())}, "pid": {record.process}{context}, '
            f'"method": {_string(fields["method"])}, "path": {_string(fields["path"])}, "status": {fields["status"]}, '
            f'"duration_ms": {fields["duration_ms"]!r}, "bytes": {fields["bytes"]}, '
            f'"dialect": {_string(fields["dialect"])}, "route": {_string(fields["route"])}, '
            f'"principal_kind": {_string(fields["principal_kind"])}, '
            f'"principal_id": {_string(fields["principal_id"])}, '
            f'"client": {"null" if client is None else _string(client)}}}'
        )


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is not None and record.name != ACCESS_LOGGER:
            line += f" [request {request_id}]"
        return redact(line)


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes its lines in batches: when `capacity` lines wait, when the oldest waited
    `seconds`, and on `flush()` (the sampler calls it each second, shutdown at the end). The access log uses it:
    one write call per batch instead of a write and a flush per request."""

    def __init__(self, stream: Any = None, capacity: int = 256, seconds: float = 1.0) -> None:
        super().__init__(stream)
        self.capacity = capacity
        self.seconds = seconds
        self._lines: list[str] = []
        self._oldest = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        lines = self._lines
        if not lines:
            self._oldest = record.created
        lines.append(line)
        if len(lines) >= self.capacity or record.created - self._oldest >= self.seconds:
            self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            lines, self._lines = self._lines, []
            if lines and self.stream is not None:
                self.stream.write("\n".join(lines) + "\n")
            super().flush()
        finally:
            self.release()


def flush_access_log() -> None:
    """Write what the access log's buffered handlers hold (called each second while serving, and at the end)."""
    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        if isinstance(handler, BufferedStreamHandler):
            handler.flush()


def formatter(kind: str) -> logging.Formatter:
    """The formatter of a `PINHOLE_LOG__FORMAT` value (`auto`: text on a terminal, else JSON)."""
    if kind == "auto":
        kind = "text" if sys.stderr.isatty() else "json"
    return JsonFormatter() if kind == "json" else TextFormatter()


def dict_config(settings: LogSettings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process, granian's own loggers included."""
    level = settings.level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "pinhole",
        "filters": ["context"],
    }
    access = {key: value for key, value in handler.items() if key != "class"} | {"()": BufferedStreamHandler}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"pinhole": {"()": formatter, "kind": settings.format}},
        "handlers": {"console": handler, "access": access},
        "loggers": {
            "_granian": {"handlers": ["console"], "level": level, "propagate": False},
            "granian.access": {"handlers": ["access"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["console"], "level": level},
    }


def configure_logging(settings: LogSettings) -> None:
    """Set up this process's logging (server processes only: tests keep pytest's own handlers)."""
    logging.config.dictConfig(dict_config(settings))
