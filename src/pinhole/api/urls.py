"""URLs built from route names (`v2.images.serve`, ...), under the configured public URL.

Each name is looked up once per app (Starlette's own `url_path_for` tries every route in turn, too slow for a
listing of a hundred images) and the route then fills its own path.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import RouteContext, iter_route_contexts
from starlette.requests import Request
from starlette.routing import NoMatchFound
from starlette.types import ASGIApp

from pinhole.api.deps import public_base_url

_ROUTES_KEY = "pinhole_named_routes"


def _named_routes(app: Any) -> dict[str, RouteContext]:
    found: dict[str, RouteContext] | None = getattr(app.state, _ROUTES_KEY, None)
    if found is None:
        found = {}
        for context in iter_route_contexts(app.router.routes):
            if isinstance(context.name, str):
                found.setdefault(context.name, context)
        setattr(app.state, _ROUTES_KEY, found)
    return found


def path_for(app: ASGIApp, name: str, **params: Any) -> str:
    """The path of the route `name` with `params` filled in; `NoMatchFound` when no such route is mounted."""
    route = _named_routes(app).get(name)
    if route is None:
        raise NoMatchFound(name, params)
    return str(route.url_path_for(name, **params))


def url_for(request: Request, name: str, **params: Any) -> str:
    """`path_for` under the public base URL (`server.public_url`, else the request's own)."""
    return public_base_url(request) + path_for(request.app, name, **params)


def path_prefix(app: ASGIApp, name: str, last: str, **params: Any) -> str:
    """The path of a route whose path ends in the parameter `last`, up to that parameter: what its paths start with.
    Also for values a path parameter refuses (an external user id may hold a `/`)."""
    return path_for(app, name, **params, **{last: "_"}).removesuffix("_")


def url_prefix(request: Request, name: str, last: str, **params: Any) -> str:
    """`path_prefix` under the public base URL."""
    return public_base_url(request) + path_prefix(request.app, name, last, **params)


def image_url(request: Request, image_id: str) -> str:
    """Where an image is served: the v2 route, which every API links to (its delivery does the transforms)."""
    return url_for(request, "v2.images.serve", image_id=image_id)
