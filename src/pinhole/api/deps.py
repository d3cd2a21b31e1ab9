"""Small dependency aliases that hand the runtime's parts to routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pinhole.api.answers import raises
from pinhole.api.proxies import client_address
from pinhole.db.engine import Database
from pinhole.errors import DatabaseBusy
from pinhole.runtime import Runtime
from pinhole.settings import Settings


async def get_runtime(request: Request) -> Runtime:
    # async: a plain def dependency would be sent to the thread pool on every request
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@raises(DatabaseBusy)
async def get_database(request: Request) -> Database:
    runtime: Runtime = request.app.state.runtime
    return runtime.db


# For the services that are functions over the database alone (albums, keys, clients, users, stats...).
DatabaseDep = Annotated[Database, Depends(get_database)]


def settings_of(request: Request) -> Settings:
    """The app's settings (what an API reads of its own mount, e.g. its file-size cap)."""
    runtime: Runtime = request.app.state.runtime
    return runtime.settings


def caller_address(request: Request) -> str:
    """The client's address (behind trusted proxies, the one they name): sign-in back-off counts by it."""
    runtime: Runtime = request.app.state.runtime
    return client_address(request, runtime.settings.server.trusted_proxies)


def public_base_url(request: Request) -> str:
    """Base of links the API returns: the configured public URL, else the request's own."""
    runtime: Runtime = request.app.state.runtime
    configured = runtime.settings.server.public_url
    return (configured or str(request.base_url)).rstrip("/")
