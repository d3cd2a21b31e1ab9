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
import re
import sys
from typing import Any

from pinhole.observability.context import current_request
from pinhole.observability.tracing import trace_ids
from pinhole.settings import LogSettings

ACCESS_LOGGER = "pinhole.access"
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_CONTEXT_FIELDS = ("request_id", "trace_id", "span_id")
_SECRETS = re.compile(
    r"(?P<prefix>\b(?:phk|sk|uk|shr)_)[A-Za-z0-9_\-]{8,}"  # client, personal and upload keys, share tokens
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@"  # passwords in URLs
    r"|(?P<bearer>\b[Bb]earer\s+)[^\s\"',]+"
)


def _mask(match: re.Match[str]) -> str:
    if match.group("prefix"):
        return match.group("prefix") + "***"
    if match.group("scheme"):
        return f"{match.group('scheme')}{match.group('user')}:***@"
    if match.group("bearer"):
        return match.group("bearer") + "***"
    return "***"


_TRIGGERS = ("phk_", "sk_", "uk_", "shr_", "eyJ", "://", "earer")


def redact(text: str) -> str:
    # Substring tests first: a plain `in` is far cheaper than the regex, and almost no line holds any of these.
    if not any(trigger in text for trigger in _TRIGGERS):
        return text
    return _SECRETS.sub(_mask, text)


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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
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
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is not None and record.name != ACCESS_LOGGER:
            line += f" [request {request_id}]"
        return redact(line)


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
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"pinhole": {"()": formatter, "kind": settings.format}},
        "handlers": {"console": handler, "access": dict(handler)},
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
