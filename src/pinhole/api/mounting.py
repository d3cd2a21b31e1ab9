"""Mounting the API dialects: each at its configured prefix, under its own OpenAPI tag, with its error shape
for unknown paths, and never two routes that could answer the same request.

A `Dialect` describes one API (`pinhole.dialects` lists them). Two routes collide when they share a method and a
request path could match both: each route's example path (its parameters filled with values its converters
accept) is tried against the other route's pattern, both ways. Start-up refuses such a configuration with an error
naming both routes, so moving `uploadkey` to the root next to `slink` fails loudly instead of shadowing a route.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.convertors import Convertor, FloatConvertor, IntegerConvertor, PathConvertor, UUIDConvertor
from starlette.routing import BaseRoute

from pinhole.api.errors import Renderer
from pinhole.api.front import PinholeApp
from pinhole.runtime import Runtime
from pinhole.settings import DialectMount, Settings

# (app, runtime, prefix): wrap the app in the API's fast path, which answers what it can before routing.
FastPath = Callable[[PinholeApp, Runtime, str], None]

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")
_EXAMPLES: dict[type[Convertor[Any]], str] = {
    IntegerConvertor: "1",
    FloatConvertor: "1.5",
    UUIDConvertor: "00000000-0000-4000-8000-000000000000",
    PathConvertor: "x/y",
}


@dataclass(frozen=True)
class Dialect:
    """One API pinhole speaks.

    `build_router(prefix)` returns its routes under `prefix`, each tagged with `name`; `render_error` gives its
    documented error shape; `error_roots` are the paths (under the prefix) whose unknown routes answer in that
    shape, so an API at the server root does not claim every 404 of the server.
    """

    name: str
    description: str
    build_router: Callable[[str], APIRouter]
    render_error: Renderer
    error_roots: tuple[str, ...] = ("",)
    fast_path: FastPath | None = None  # raw ASGI in front of the routes, installed by the composition root

    def mount(self, settings: Settings) -> DialectMount:
        mount = getattr(settings.dialects, self.name, None)
        if not isinstance(mount, DialectMount):
            raise TypeError(f"settings.dialects has no mount for dialect {self.name!r}")
        return mount


@dataclass(frozen=True)
class RouteInfo:
    dialect: str
    name: str
    path: str  # the template, e.g. /v2/images/{image_id}
    methods: frozenset[str]
    pattern: re.Pattern[str]
    example: str

    def label(self) -> str:
        name = self.name.removeprefix(f"{self.dialect}.")  # the dialect is named already
        return f"{self.dialect} {'|'.join(sorted(self.methods))} {self.path} ({name})"


class RouteCollision(Exception):
    """Two mounted APIs have routes that could answer the same request."""


def _example(path_format: str, convertors: dict[str, Convertor[Any]]) -> str:
    def fill(match: re.Match[str]) -> str:
        convertor = convertors.get(match.group(1))
        explicit = getattr(convertor, "example", None)
        if isinstance(explicit, str):
            return explicit
        return _EXAMPLES.get(type(convertor), "x") if convertor is not None else "x"

    return _PARAM.sub(fill, path_format)


def route_infos(dialect: str, routes: Sequence[BaseRoute]) -> list[RouteInfo]:
    """The routes as requests see them (prefixes applied), each with an example path it matches."""
    infos = []
    for context in iter_route_contexts(routes):
        pattern = getattr(context, "path_regex", None)
        path_format = context.path_format
        if pattern is None or path_format is None:
            continue
        example = _example(path_format, getattr(context, "param_convertors", {}))
        if not pattern.match(example):
            raise TypeError(f"{dialect} route {path_format}: converter needs an `example` attribute")
        methods = frozenset(context.methods or {"GET"})
        infos.append(RouteInfo(dialect, context.name or "", path_format, methods, pattern, example))
    return infos


def _overlap(a: RouteInfo, b: RouteInfo) -> bool:
    return bool(a.methods & b.methods) and bool(a.pattern.match(b.example) or b.pattern.match(a.example))


def find_collisions(groups: Iterable[list[RouteInfo]]) -> list[tuple[RouteInfo, RouteInfo]]:
    """Pairs of routes from different groups that could answer the same request."""
    seen: list[RouteInfo] = []
    found = []
    for group in groups:
        for route in group:
            found += [(other, route) for other in seen if _overlap(other, route)]
        seen += group
    return found


@dataclass(frozen=True)
class Mounted:
    dialect: Dialect
    prefix: str
    router: APIRouter


def enabled_mounts(settings: Settings, dialects: Sequence[Dialect]) -> tuple[tuple[Dialect, str], ...]:
    """The enabled dialects with their prefixes: all that decides which routes they add."""
    return tuple((dialect, mount.prefix) for dialect in dialects if (mount := dialect.mount(settings)).enabled)


def check_collisions(groups: Iterable[list[RouteInfo]]) -> None:
    collisions = find_collisions(groups)
    if collisions:
        lines = "; ".join(f"{a.label()} and {b.label()}" for a, b in collisions[:5])
        more = f" (and {len(collisions) - 5} more)" if len(collisions) > 5 else ""
        raise RouteCollision(f"routes collide: {lines}{more}. Change a PINHOLE_DIALECTS__<NAME>__PREFIX.")


def _named(api: str, router: APIRouter) -> APIRouter:
    """Route names made unique across APIs: `images.list` of v2 becomes `v2.images.list`, which is also its
    rate-limit scope and, as `v2_images_list`, its OpenAPI operation id (the SDKs' method names come from it)."""
    for route in _declared_routes(router):
        if route.name.startswith(f"{api}."):
            continue  # a router shared by every build of this API: named by an earlier one
        route.name = f"{api}.{route.name}"
        if route.operation_id is None:
            route.operation_id = operation_id(route.name, route.methods or ())
    return router


def operation_id(name: str, methods: Iterable[str]) -> str:
    """`v2.images.serve` -> `v2_images_serve`; a HEAD-only route beside its GET twin gets `_head`."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    return f"{base}_head" if set(methods) == {"HEAD"} else base


def _declared_routes(router: APIRouter) -> Iterator[APIRoute]:
    """The routes as declared, in the routers `router` includes too (FastAPI includes them lazily)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            yield route
        elif isinstance(included := getattr(route, "original_router", None), APIRouter):
            yield from _declared_routes(included)


def mount_dialects(target: FastAPI | APIRouter, mounts: Sequence[tuple[Dialect, str]]) -> list[Mounted]:
    """Include every dialect at its prefix; raise `RouteCollision` before including anything that clashes with
    another dialect or with the routes `target` already has."""
    mounted = [
        Mounted(dialect, prefix, _named(dialect.name, dialect.build_router(prefix))) for dialect, prefix in mounts
    ]
    groups = [route_infos("pinhole", target.routes)]
    groups += [route_infos(item.dialect.name, item.router.routes) for item in mounted]
    check_collisions(groups)
    for item in mounted:
        target.include_router(item.router)  # each dialect tags its own routes with its name (a test checks)
    return mounted


def error_prefixes(mounted: Sequence[Mounted]) -> list[tuple[str, Renderer]]:
    """Where unknown paths answer in each API's error shape (the longest prefix wins)."""
    return [(item.prefix + root, item.dialect.render_error) for item in mounted for root in item.dialect.error_roots]


def openapi_tags(dialects: Sequence[Dialect]) -> list[dict[str, str]]:
    return [{"name": dialect.name, "description": dialect.description} for dialect in dialects]
