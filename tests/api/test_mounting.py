"""Mounting the API dialects: prefixes, enabling, OpenAPI tags, error shapes of unknown paths, route collisions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.convertors import Convertor, register_url_convertor

from pinhole.api.mounting import Dialect, RouteCollision, enabled_mounts, mount_dialects, route_infos
from pinhole.app import create_app
from pinhole.dialects import DIALECTS
from pinhole.errors import PinholeError
from pinhole.settings import DialectMount, DialectsSettings, Settings

pytestmark = pytest.mark.anyio


async def test_every_operation_is_tagged_with_its_dialect(app: FastAPI) -> None:
    """Each API appears in the OpenAPI document under its own tag, and only that tag."""
    names = {dialect.name for dialect in DIALECTS}
    tags = {tag["name"] for tag in app.openapi()["tags"]}
    assert tags == names
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            assert operation["tags"] in [[name] for name in names], (method, path)


@pytest.mark.parametrize("settings_overrides", [{"dialects": {"v2": {"enabled": False}}}])
async def test_a_disabled_dialect_is_not_served(http: httpx.AsyncClient, app: FastAPI) -> None:
    assert (await http.get("/v2/status")).status_code == 404
    assert not [path for path in app.openapi().get("paths", {}) if path.startswith("/v2")]


def _render(request: Request, error: PinholeError) -> Response:
    return PlainTextResponse(f"toy:{error.code}", status_code=error.status)


class ImageIdConvertor(Convertor[str]):
    regex = "img_[0-9a-f]{16}"
    example = "img_0123456789abcdef"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("toy_image_id", ImageIdConvertor())


def _toy(name: str, *paths: str, roots: tuple[str, ...] = ("",)) -> Dialect:
    def build(prefix: str) -> APIRouter:
        router = APIRouter(prefix=prefix, tags=[name])
        for path in paths:
            router.add_api_route(path, lambda: JSONResponse({}), methods=["GET"], name=f"{name}{path}")
        return router

    return Dialect(name=name, description=name, build_router=build, render_error=_render, error_roots=roots)


class ToyMounts(DialectsSettings):
    one: DialectMount = DialectMount()
    two: DialectMount = DialectMount()


def _settings(tmp_path: Path, **mounts: DialectMount) -> Settings:
    return Settings(data_dir=tmp_path, dialects=ToyMounts(**mounts))


def _mount(settings: Settings, *dialects: Dialect) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    mount_dialects(app, enabled_mounts(settings, dialects))
    return app


def test_same_literal_route_in_two_dialects_is_refused_naming_both(tmp_path: Path) -> None:
    one, two = _toy("one", "/api/upload"), _toy("two", "/api/upload", "/other")
    with pytest.raises(RouteCollision, match=r"one GET /api/upload \(one/api/upload\) and two GET /api/upload"):
        _mount(_settings(tmp_path), one, two)
    # A prefix keeps them apart.
    app = _mount(_settings(tmp_path, two=DialectMount(prefix="/two")), one, two)
    assert {info.path for info in route_infos("app", app.router.routes)} == {
        "/api/upload",
        "/two/api/upload",
        "/two/other",
    }


def test_a_template_that_would_swallow_another_route_collides(tmp_path: Path) -> None:
    with pytest.raises(RouteCollision, match=r"/api/images/\{page\}.*/api/images/\{uuid\}\.\{ext\}"):
        _mount(_settings(tmp_path), _toy("one", "/api/images/{page}"), _toy("two", "/api/images/{uuid}.{ext}"))
    # Routes that share nothing but a shape of path do not collide.
    _mount(_settings(tmp_path), _toy("one", "/image/{id}.{ext}"), _toy("two", "/api/image/{id}/detail"))


def test_converters_narrow_what_a_route_swallows(tmp_path: Path) -> None:
    narrow = _toy("one", "/{image_id:toy_image_id}")
    _mount(_settings(tmp_path), narrow, _toy("two", "/healthz", "/{uuid}.{ext}"))
    with pytest.raises(RouteCollision):
        _mount(_settings(tmp_path), narrow, _toy("two", "/{anything}"))


def test_the_app_own_routes_are_checked_too(tmp_path: Path) -> None:
    app = FastAPI()  # has /docs and /openapi.json
    with pytest.raises(RouteCollision, match=r"pinhole GET\|HEAD /docs \(swagger_ui_html\)"):
        mount_dialects(app, enabled_mounts(_settings(tmp_path), [_toy("one", "/{anything}")]))


def test_a_disabled_dialect_cannot_collide(tmp_path: Path) -> None:
    one, two = _toy("one", "/api/upload"), _toy("two", "/api/upload")
    app = _mount(_settings(tmp_path, two=DialectMount(enabled=False)), one, two)
    assert [info.path for info in route_infos("app", app.router.routes)] == ["/api/upload"]


def test_start_up_refuses_a_colliding_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real app with the v2 API mounted where a toy dialect already answers."""
    import pinhole.app

    monkeypatch.setattr(pinhole.app, "DIALECTS", (*DIALECTS, _toy("one", "/v2/status")))
    settings = Settings(data_dir=tmp_path, dialects=ToyMounts())
    with pytest.raises(RouteCollision, match=r"v2 GET /v2/status \(status\) and one GET /v2/status"):
        create_app(settings)


async def test_unknown_paths_answer_in_the_shape_of_the_api_they_fall_under(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, dialects=ToyMounts(one=DialectMount(prefix="")))
    import pinhole.app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pinhole.app, "DIALECTS", (*DIALECTS, _toy("one", "/toy/thing", roots=("/toy",))))
        app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/toy/missing")).text == "toy:not_found"
        assert (await http.get("/v2/missing")).json()["error"]["code"] == "not_found"
        assert (await http.get("/toy/thing")).status_code == 200
        elsewhere = await http.get("/neither")
        assert elsewhere.status_code == 404
        assert not elsewhere.text.startswith("toy:")


async def test_schema_names_do_not_clash_between_apis(app: FastAPI) -> None:
    """Two APIs' models with one name would get module-path names in the OpenAPI document: each API names its own."""
    names = app.openapi()["components"]["schemas"]
    assert [name for name in names if "__" in name] == []


async def test_apps_with_equal_routing_share_routes_but_not_data(tmp_path: Path) -> None:
    """Built routes are reused across apps (start-up cost), yet each app answers from its own runtime."""
    from pinhole.db.migrate import upgrade
    from pinhole.services.clients import create_client

    first = create_app(Settings(data_dir=tmp_path / "one"))
    second = create_app(Settings(data_dir=tmp_path / "two"))
    own = len(FastAPI().router.routes)  # FastAPI's /docs, /openapi.json...: one set per app
    assert [id(route) for route in first.router.routes[own:]] == [id(route) for route in second.router.routes[own:]]
    assert first.openapi() == second.openapi()
    other = create_app(Settings(data_dir=tmp_path / "three", dialects={"slink": {"enabled": False}}))
    assert not [path for path in other.openapi()["paths"] if path.startswith("/api/image/")]

    keys = []
    for app in (first, second):
        await upgrade(app.state.runtime.db)
        keys.append((await create_client(db=app.state.runtime.db, name="c")).api_key)
    for app, mine, theirs in ((first, keys[0], keys[1]), (second, keys[1], keys[0])):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                assert (await http.get("/v2/images", headers={"X-API-Key": mine})).status_code == 200
                assert (await http.get("/v2/images", headers={"X-API-Key": theirs})).status_code == 401
