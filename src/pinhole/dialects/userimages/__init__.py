"""The userimages API: a client's users' images under `/api/users/user/{userId}/images`, uploads grouped.
Routes, and the choices where its document is silent: docs/apis.md, section "userimages"."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.userimages import routes
from pinhole.dialects.userimages.auth import rate_caller, rate_key
from pinhole.dialects.userimages.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "userimages"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=rate_caller, key=rate_key)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(routes.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The userimages API: a client's users' images (uploads of up to 4 files as a group) by user id.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/api/users",),
)
