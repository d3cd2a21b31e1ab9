"""Small dependency aliases that hand the runtime's parts to routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pinhole.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: a plain def dependency would be sent to the thread pool on every request
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def public_base_url(request: Request, runtime: Runtime) -> str:
    """Base of links the API returns: the configured public URL, else the request's own."""
    configured = runtime.settings.server.public_url
    return (configured or str(request.base_url)).rstrip("/")
