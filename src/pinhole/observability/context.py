"""What is known about the request being served, for log lines and metrics recorded deep inside services.

The middleware sets one `RequestContext` per request in a context variable; tasks and worker threads started while
serving it inherit it. Dialect and route come from the matched route (each dialect tags its routes with its name).
"""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import Scope

if TYPE_CHECKING:
    from pinhole.observability.telemetry import Telemetry

PRINCIPAL_STATE_KEY = "pinhole_principal"  # where `api.credentials.authenticate` keeps the request's principal
ROUTE_SCOPE_KEY = "pinhole.route"  # (dialect, route) set by handlers that answer before routing (the fast path)
NO_ROUTE = ("none", "unmatched")

_PROCESS_PREFIX = os.urandom(4).hex()  # read at import: unique per process, so ids need only a counter
_sequence = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes: a random per-process prefix and a counter (cheap on hot paths)."""
    return f"{_PROCESS_PREFIX}{next(_sequence):010x}"


def route_labels(scope: Scope) -> tuple[str, str]:
    """(dialect, route name) of the route that answered; the probes and the web app are dialects of their own."""
    preset = scope.get(ROUTE_SCOPE_KEY)
    if preset is not None:
        return preset  # type: ignore[no-any-return]
    route = scope.get("route")
    endpoint = scope.get("endpoint")
    if route is None:  # a plain Starlette route (like /metrics) names only its endpoint
        return ("pinhole", endpoint.__name__) if endpoint is not None else NO_ROUTE
    name = getattr(route, "name", None) or "unnamed"
    tags = getattr(route, "tags", None)
    if tags:
        dialect = str(tags[0])
        return dialect, name.removeprefix(f"{dialect}.")  # route names are unique across APIs: `v2.images.list`
    endpoint = getattr(route, "endpoint", None)
    module = getattr(endpoint, "__module__", "") or ""
    if module.startswith("pinhole.dialects."):  # a dialect's route whose router did not pass its tag on
        dialect = module.split(".")[2]
        return dialect, name.removeprefix(f"{dialect}.")
    if module.startswith("pinhole.web"):
        return "web", name
    return "pinhole", name  # probes, /metrics, the OpenAPI pages


class RequestContext:
    """One request's id, scope and telemetry (a slotted class: one is made for every request, warm hits too)."""

    __slots__ = ("request_id", "scope", "telemetry", "upload_counted")

    def __init__(self, request_id: str, scope: Scope, telemetry: Telemetry | None = None) -> None:
        self.request_id = request_id
        self.scope = scope
        self.telemetry = telemetry
        self.upload_counted = False  # this request's upload outcome is counted (a refusal counts once)

    @property
    def route(self) -> tuple[str, str]:
        return route_labels(self.scope)

    def principal(self) -> tuple[str, str] | None:
        """(kind, id) of the caller once authenticated: never a secret, only row ids."""
        found = self.scope.get("state", {}).get(PRINCIPAL_STATE_KEY)
        if found is None:
            return None
        via = getattr(found, "via", None)
        if via is None:
            return ("anonymous", "")
        ident = getattr(found, "account_id", None) or getattr(found, "client_id", None) or ""
        user = getattr(found, "user_id", None)
        if user and user != ident:
            ident = f"{ident}/{user}"
        return (str(getattr(via, "value", via)), str(ident))


current_request: ContextVar[RequestContext | None] = ContextVar("pinhole_request", default=None)


def current() -> RequestContext | None:
    return current_request.get()


def current_dialect() -> str:
    found = current_request.get()
    return found.route[0] if found is not None else "none"
