"""The access log's records: one per request, built from the raw values without `Logger.info`'s caller lookup.

`access_record()` makes a `LogRecord` by copying a template's attributes and adding the request's fields, then the
middleware hands it to the `pinhole.access` logger's handlers; formatting (and writing, through the server's
buffered handler) is theirs, as for any record (docs/observability.md, "Logs").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from starlette.types import Scope

from pinhole.observability.context import RequestContext
from pinhole.observability.redaction import redact

ACCESS_LOGGER = "pinhole.access"
ACCESS_MESSAGE = "%s %s %d %.1fms"
_SECRET_PARAMS = ("token", "key", "secret", "sig", "password")
_TEMPLATE = dict(logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, ACCESS_MESSAGE, (), None).__dict__)
_START = logging._startTime  # type: ignore[attr-defined]  # what `relativeCreated` counts from


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_PARAMS)


_secret_names: dict[str, bool] = {}  # path parameter names are few (the routes'): decide each once


def path_for_log(scope: Scope) -> str:
    """The request path with the values of secret-looking path parameters (share tokens, keys) masked."""
    path: str = scope["path"]
    params = scope.get("path_params")
    if params:
        for name, value in params.items():
            secret = _secret_names.get(name)
            if secret is None:
                secret = _secret_names[name] = _is_secret(name)
            if secret and isinstance(value, str) and value:
                path = path.replace(value, "***")
    return path


class AccessRecord(logging.LogRecord):
    """A `LogRecord` whose standard attributes come from a template (the same as `LogRecord()` would set for a
    line logged here) and whose request fields are in `fields` as well as attributes (the JSON formatter's fast
    path reads `fields`; other formatters may name them as `%(status)s`)."""

    fields: dict[str, Any]

    def __init__(self, fields: dict[str, Any], args: tuple[Any, ...]) -> None:  # no super(): that is the cost
        now = time.time()
        attributes = self.__dict__
        attributes.update(_TEMPLATE)
        attributes.update(fields)
        attributes["args"] = args
        attributes["created"] = now
        attributes["msecs"] = (now - int(now)) * 1000
        attributes["relativeCreated"] = (now - _START) * 1000
        attributes["process"] = os.getpid()
        attributes["thread"] = threading.get_ident()
        attributes["fields"] = fields


def access_record(
    context: RequestContext, scope: Scope, status: int, seconds: float, sent: int, dialect: str, route: str
) -> AccessRecord:
    principal = context.principal()
    client = scope.get("client")
    method = scope["method"]
    path = redact(path_for_log(scope))  # the line is put together from these fields: redact the one from outside
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "bytes": sent,
        "dialect": dialect,
        "route": route,
        "principal_kind": principal[0] if principal else "anonymous",
        "principal_id": principal[1] if principal else "",
        "client": client[0] if client else None,
    }
    return AccessRecord(fields, (method, path, status, seconds * 1000))
