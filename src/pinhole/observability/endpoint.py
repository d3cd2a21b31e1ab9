"""`GET /metrics`: the Prometheus text format, outside every API like the probes, optionally behind a token."""

from __future__ import annotations

import functools
import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pinhole.runtime import Runtime

METRICS_PATH = "/metrics"


def token_matches(header: str | None, token: str | None) -> bool:
    """No token configured: anyone may scrape. Else `Authorization: Bearer <token>`, compared in constant time."""
    if token is None:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics.token
    if not token_matches(request.headers.get("authorization"), token.get_secret_value() if token else None):
        return Response(
            "unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"}
        )
    runtime.telemetry.sample(runtime)
    body = runtime.telemetry.metrics.exposition()
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


@functools.cache
def metrics_route() -> Route:
    """One route object for every app of the process, like the API route tables (`app.build_routes`)."""
    return Route(METRICS_PATH, metrics, methods=["GET"], name="metrics", include_in_schema=False)
