"""Metrics across granian's worker processes: prometheus_client's multiprocess files, set up by `pinhole serve`.

Each worker writes its counters to files in one folder; a scrape of any worker (or of the metrics port, served by
the main process) sums them. The folder is made fresh for each run and removed at exit, so counts start at zero.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, values

from pinhole.observability.endpoint import METRICS_PATH, token_matches
from pinhole.observability.metrics import MULTIPROC_VARIABLE, Metrics

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@contextmanager
def multiprocess_metrics() -> Iterator[str]:
    """A fresh folder for the workers' metric files, named in the environment they inherit; removed afterwards."""
    folder = tempfile.mkdtemp(prefix="pinhole-metrics-")
    previous = os.environ.get(MULTIPROC_VARIABLE)
    os.environ[MULTIPROC_VARIABLE] = folder
    # prometheus_client picks its value class when first imported; this process imported it already, and forked
    # workers inherit that choice: pick again now that the folder is named.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_VARIABLE, None)
        else:
            os.environ[MULTIPROC_VARIABLE] = previous
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        shutil.rmtree(folder, ignore_errors=True)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def metrics_app(token: str | None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app answering `GET /metrics` with the sum of every worker's metrics."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not token_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")])
            return [b"unauthorized\n"]
        body = Metrics.exposition_of_files()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])
        return [body]

    return app


def serve_metrics(host: str, port: int, token: str | None) -> WSGIServer:
    """Serve the metrics port from a daemon thread of the main process (it reads the workers' files)."""
    server = make_server(host, port, metrics_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="pinhole-metrics", daemon=True).start()
    return server
