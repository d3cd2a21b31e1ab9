"""The front of the ASGI stack: pinhole's observability middleware and the warm fast paths run before FastAPI's own
layers, not inside them.

FastAPI wraps every request in three layers of its own before any user middleware (Starlette's
`ServerErrorMiddleware`, which wraps `send` in a coroutine of its own, `ExceptionTelemetryMiddleware`,
`AppBodyLimitMiddleware`). A warm hit answered from memory needs none of them: it reads no body, and an exception
it raised reached the server as a plain 500 either way (ServerErrorMiddleware answers one and re-raises). Placed in
front, each warm hit skips three awaits and two wrapped sends; everything the fast paths leave to the routes goes
through FastAPI's whole stack as before, with the observability middleware now also seeing (and giving a request
id to) the 500 that `ServerErrorMiddleware` answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp


class PinholeApp(FastAPI):
    """FastAPI with a second list of middleware (`add_front_middleware`) wrapped around its whole stack."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front_middleware: list[Middleware] = []

    def add_front_middleware(self, middleware_class: Any, **options: Any) -> None:
        """Like `add_middleware` (the last added runs first), but outside FastAPI's own layers."""
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.front_middleware.insert(0, Middleware(middleware_class, **options))

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, options in reversed(self.front_middleware):
            app = cls(app, *args, **options)
        return app
