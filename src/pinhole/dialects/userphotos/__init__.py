"""The userphotos API: `POST /v1/upload` and the CDN URL `GET /{image_id}` with `w`, `h`, `q`, `f`.
Routes, and the choices where its document is silent: docs/apis.md, section "userphotos"."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.userphotos import routes
from pinhole.dialects.userphotos.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "userphotos"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(routes.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The user.photos API: upload a user's avatar with a client API key, serve it resized by URL.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/v1",),
)
