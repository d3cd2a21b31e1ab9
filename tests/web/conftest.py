"""Fixtures for the web app's page tests: a signed-in account with its own cookie jar, and fresh browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from tests.api.accounthelpers import PASSWORD, Account, make_account
from tests.web.webhelpers import Browser, browser

ClientFactory = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_client(app: FastAPI) -> AsyncIterator[ClientFactory]:
    """Make more httpx clients on the app, each with its own cookies (another browser)."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def alice(runtime: Runtime) -> Account:
    return await make_account(runtime, "alice")


@pytest.fixture
async def signed_in(http: httpx.AsyncClient, alice: Account) -> Browser:
    return await browser(http, alice.username, PASSWORD)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots) at teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
