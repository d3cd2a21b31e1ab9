"""The slink API: JWT sign-in, signed-in, guest and `sk_` key uploads, images served by `{id}.{ext}`.
Routes, and the choices where its document is silent: docs/apis.md, section "slink"."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.slink import auth, images
from pinhole.dialects.slink.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router"]

API_NAME = "slink"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(auth.router)
    router.include_router(images.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The slink API: JWT sign-in, signed-in, guest and API-key uploads, images served by `{id}.{ext}`.",
    build_router=build_router,
    render_error=render_error,
    error_roots=(),
)
