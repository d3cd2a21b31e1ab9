"""The web app: server-rendered pages (Jinja2) for people, over the same services and policy as the APIs.
Pages, sessions and the choices made for them: docs/web.md."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole.api.principals import identify_caller
from pinhole.api.ratelimit import rate_limits
from pinhole.web import (
    account,
    admin,
    albums,
    auth,
    images,
    moderation,
    photo_privacy,
    presets,
    resets,
    static_files,
    trash,
    viewer,
)

__all__ = ["build_router"]


def build_router() -> APIRouter:
    router = APIRouter(dependencies=[rate_limits("web", principal=identify_caller)])
    parts = (
        static_files,
        auth,
        images,
        viewer,
        albums,
        account,
        photo_privacy,
        admin,
        presets,
        moderation,
        trash,
        resets,
    )
    for part in parts:
        router.include_router(part.router)
    return router
