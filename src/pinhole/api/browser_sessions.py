"""Browser sessions at any API's paths: sign in with a password, get the HttpOnly cookie (`api.session_cookie`) and
the CSRF token that goes with it; read the session again, rotate it, sign out. Each API names its paths, route
names, extra dependencies and what signing out answers; the behaviour is this one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.params import Depends
from fastapi.routing import APIRoute

from pinhole.api.credentials import CSRF_HEADER, SESSION_COOKIE
from pinhole.api.deps import RuntimeDep, caller_address
from pinhole.api.responses import no_store
from pinhole.api.services import SigninDep
from pinhole.api.session_cookie import clear_session_cookie, session_cookie, set_session_cookie
from pinhole.api.session_schemas import AccountPublic, BrowserSessionPublic, LoginRequest
from pinhole.services import signin
from pinhole.services.signin import BrowserSession


@dataclass(frozen=True)
class SessionRoute:
    method: str
    path: str
    name: str
    summary: str
    dependencies: Sequence[Depends] = ()


@dataclass(frozen=True)
class SessionRoutes:
    login: SessionRoute
    read: SessionRoute
    refresh: SessionRoute
    logout: SessionRoute
    logout_status: int = 204
    logged_out: Callable[[], Any] = lambda: None  # the body signing out answers (None: empty)
    login_responses: dict[int | str, dict[str, Any]] | None = None


def _public(session: BrowserSession) -> BrowserSessionPublic:
    return BrowserSessionPublic(
        csrf_token=session.csrf_token, expires_at=session.expires_at, user=AccountPublic.of(session.user)
    )


def build_browser_session_router(
    routes: SessionRoutes, *, prefix: str, tags: list[str], route_class: type[APIRoute]
) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=list(tags), route_class=route_class)

    def add(route: SessionRoute, endpoint: Callable[..., Any], **extra: Any) -> None:
        router.add_api_route(
            route.path,
            endpoint,
            methods=[route.method],
            name=route.name,
            summary=route.summary,
            dependencies=list(route.dependencies),
            **extra,
        )

    async def login(
        body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep
    ) -> BrowserSessionPublic:
        user = await signin.sign_in(gate, login=body.identity, password=body.password, address=caller_address(request))
        session = await signin.open_browser_session(
            gate,
            user=user,
            user_agent=request.headers.get("user-agent"),
            replacing=request.cookies.get(SESSION_COOKIE),
        )
        set_session_cookie(response, request, runtime, session)
        no_store(response)
        return _public(session)

    async def read(request: Request, response: Response, gate: SigninDep) -> BrowserSessionPublic:
        session = await signin.current_browser_session(gate, cookie=session_cookie(request))
        no_store(response)
        return _public(session)

    async def refresh(
        request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep
    ) -> BrowserSessionPublic:
        session = await signin.refresh_browser_session(
            gate, cookie=session_cookie(request), csrf=request.headers.get(CSRF_HEADER)
        )
        set_session_cookie(response, request, runtime, session)
        no_store(response)
        return _public(session)

    async def logout(request: Request, response: Response, runtime: RuntimeDep, gate: SigninDep) -> Any:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await signin.end_browser_session(gate, cookie=cookie, csrf=request.headers.get(CSRF_HEADER))
        body = routes.logged_out()
        answer = response if body is not None else Response(status_code=routes.logout_status)
        clear_session_cookie(answer, request, runtime)
        return body if body is not None else answer

    add(routes.login, login, responses=routes.login_responses)
    add(routes.read, read)
    add(routes.refresh, refresh)
    logged_out_model = type(routes.logged_out()) if routes.logged_out() is not None else None
    add(routes.logout, logout, status_code=routes.logout_status, response_model=logged_out_model)
    return router
