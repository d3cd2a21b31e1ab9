"""Small dependency aliases that hand the runtime's parts to routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from pinhole.api.proxies import client_address
from pinhole.runtime import Runtime
from pinhole.services.signin import Signin


async def get_runtime(request: Request) -> Runtime:
    # async: a plain def dependency would be sent to the thread pool on every request
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_signin(runtime: RuntimeDep) -> Signin:
    accounts = runtime.settings.accounts
    return Signin(
        accounts=runtime.accounts,
        backoff=runtime.login_backoff,
        access_tokens=runtime.access_tokens,
        secret=runtime.secret,
        api_lifetime=timedelta(days=accounts.refresh_token_days),
        browser_lifetime=timedelta(days=accounts.browser_session_days),
    )


SigninDep = Annotated[Signin, Depends(get_signin)]


def caller_address(request: Request, runtime: Runtime) -> str:
    """The client's address (behind trusted proxies, the one they name): sign-in back-off counts by it."""
    return client_address(request, runtime.settings.server.trusted_proxies)


def public_base_url(request: Request, runtime: Runtime) -> str:
    """Base of links the API returns: the configured public URL, else the request's own."""
    configured = runtime.settings.server.public_url
    return (configured or str(request.base_url)).rstrip("/")
