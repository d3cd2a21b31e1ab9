"""The native v2 API: images, albums, avatars, accounts, keys and administration (choices: docs/apis.md, "v2")."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.mounting import Dialect
from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.dialects.v2 import (
    admin,
    admin_users,
    albums,
    avatars,
    browser,
    fastpath,
    groups,
    images,
    keys,
    sessions,
    signing,
    stats,
    status,
    tags,
)
from pinhole.dialects.v2 import uploads as tus_routes
from pinhole.dialects.v2.errors import ERROR_RESPONSES, render_error

__all__ = ["API_NAME", "DIALECT", "build_router", "render_error"]

API_NAME = "v2"


def build_router(prefix: str) -> APIRouter:
    limits = rate_limits(API_NAME, principal=identify_caller)
    router = APIRouter(prefix=prefix, responses=ERROR_RESPONSES, dependencies=[limits])
    router.include_router(status.router)
    router.include_router(images.router)
    router.include_router(tus_routes.router)
    router.include_router(sessions.build_token_router(prefix="/auth", admin=False))
    router.include_router(sessions.build_token_router(prefix="/admin/auth", admin=True))
    router.include_router(browser.router)
    router.include_router(signing.router)
    router.include_router(keys.router)
    router.include_router(albums.router)
    router.include_router(groups.router)
    router.include_router(tags.router)
    router.include_router(avatars.router)
    router.include_router(stats.router)
    router.include_router(admin.router)
    router.include_router(admin_users.router)
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="The native pinhole API: images, albums, avatars, accounts, keys and administration.",
    build_router=build_router,
    render_error=render_error,
    fast_path=fastpath.install,
)
