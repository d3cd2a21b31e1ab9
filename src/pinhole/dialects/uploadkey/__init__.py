"""The uploadkey API: a browser uploader with sessions, upload keys and per-image keys for private images.
Routes, and the choices where its document is silent: docs/apis.md, section "uploadkey"."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.uploadkey import images, sessions
from pinhole.dialects.uploadkey.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "uploadkey"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(sessions.router)
    router.include_router(images.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="Browser uploads with sessions and CSRF tokens, upload keys, and per-image keys for private images.",
    build_router=build_router,
    render_error=render_error,
    error_roots=("/api",),
)
