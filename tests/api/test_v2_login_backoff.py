"""Sign-in back-off through the API: per account and per address, on every sign-in route, on a hand-moved clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from pinhole.security.backoff import BackoffPolicy, LoginBackoff, MemoryAttemptStore
from pinhole.security.principal import Role
from tests.api.signin import NEW_PASSWORD, PASSWORD, bearer, client_at, error_code, login, make_user
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio

ACCOUNT_THRESHOLD = 3
ADDRESS_THRESHOLD = 6
WRONG = "a wrong guess"
HOME = ("198.51.100.7", 5000)
CAFE = ("203.0.113.9", 5000)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(autouse=True)
async def accounts(runtime: Runtime, clock: ManualClock) -> None:
    runtime.login_backoff = LoginBackoff(
        MemoryAttemptStore(),
        account_policy=BackoffPolicy(threshold=ACCOUNT_THRESHOLD),
        address_policy=BackoffPolicy(threshold=ADDRESS_THRESHOLD),
        clock=clock,
    )
    await make_user(runtime, "alice")
    await make_user(runtime, "bob")


async def attempt(
    client: httpx.AsyncClient, login: str = "alice", password: str = WRONG, path: str = "/v2/auth/login"
) -> httpx.Response:
    return await client.post(path, json={"login": login, "password": password})


async def fail(client: httpx.AsyncClient, times: int, login: str = "alice") -> None:
    for _ in range(times):
        assert (await attempt(client, login)).status_code == 401


def assert_throttled(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert error_code(response) == "login_throttled"
    assert response.headers["retry-after"] == str(retry_after)


async def test_after_the_threshold_even_the_right_password_waits(app: FastAPI, clock: ManualClock) -> None:
    async with client_at(app, HOME) as home:
        await fail(home, ACCOUNT_THRESHOLD)
        assert_throttled(await attempt(home, password=PASSWORD), 1)
        clock.advance(1)
        assert (await attempt(home, password=PASSWORD)).status_code == 200


async def test_the_wait_doubles_with_each_failure(app: FastAPI, clock: ManualClock) -> None:
    async with client_at(app, HOME) as home:
        await fail(home, ACCOUNT_THRESHOLD)
        for wait in (1, 2, 4):
            assert_throttled(await attempt(home), wait)
            clock.advance(wait)
            assert (await attempt(home)).status_code == 401
        assert_throttled(await attempt(home, password=PASSWORD), 8)


async def test_another_address_is_held_back_only_by_the_account_counter(app: FastAPI) -> None:
    async with client_at(app, HOME) as home, client_at(app, CAFE) as cafe:
        await fail(home, ACCOUNT_THRESHOLD)
        assert_throttled(await attempt(cafe, password=PASSWORD), 1)
        assert (await attempt(cafe, "bob", PASSWORD)).status_code == 200
        assert (await attempt(home, "bob", PASSWORD)).status_code == 200


async def test_one_address_guessing_many_accounts_is_throttled(app: FastAPI) -> None:
    async with client_at(app, HOME) as home, client_at(app, CAFE) as cafe:
        for n in range(ADDRESS_THRESHOLD):
            assert (await attempt(home, f"user{n}")).status_code == 401
        assert_throttled(await attempt(home, "bob", PASSWORD), 1)
        assert (await attempt(cafe, "bob", PASSWORD)).status_code == 200


async def test_username_and_email_count_against_one_account(app: FastAPI) -> None:
    async with client_at(app, HOME) as home:
        await fail(home, ACCOUNT_THRESHOLD - 1, "alice")
        await fail(home, 1, "ALICE@example.com")
        assert_throttled(await attempt(home, "Alice", PASSWORD), 1)


async def test_a_success_clears_the_account_counter(app: FastAPI) -> None:
    async with client_at(app, HOME) as home:
        await fail(home, ACCOUNT_THRESHOLD - 1)
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        await fail(home, ACCOUNT_THRESHOLD - 1)
        assert (await attempt(home, password=PASSWORD)).status_code == 200


async def test_the_owners_usual_address_is_not_locked_out_by_an_attacker(app: FastAPI) -> None:
    async with client_at(app, HOME) as home, client_at(app, CAFE) as attacker:
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        await fail(attacker, ACCOUNT_THRESHOLD)
        assert_throttled(await attempt(attacker, password=PASSWORD), 1)
        assert (await attempt(home, password=PASSWORD)).status_code == 200


async def test_every_sign_in_route_shares_the_counters(app: FastAPI, runtime: Runtime) -> None:
    await make_user(runtime, "root", role=Role.ADMIN)
    async with client_at(app, HOME) as home:
        assert (await attempt(home, "root", path="/v2/auth/login")).status_code == 401
        assert (await attempt(home, "root", path="/v2/admin/auth/login")).status_code == 401
        assert (await attempt(home, "root", path="/v2/auth/session")).status_code == 401
        for path in ("/v2/auth/login", "/v2/admin/auth/login", "/v2/auth/session"):
            assert_throttled(await attempt(home, "root", PASSWORD, path), 1)


async def test_guessing_the_current_password_with_a_stolen_token_is_throttled(app: FastAPI, clock: ManualClock) -> None:
    async with client_at(app, HOME) as home, client_at(app, CAFE) as thief:
        auth = bearer((await login(home))["accessToken"])

        async def change(current: str) -> httpx.Response:
            body = {"currentPassword": current, "newPassword": NEW_PASSWORD}
            return await thief.post("/v2/auth/me/change-password", json=body, headers=auth)

        for _ in range(ACCOUNT_THRESHOLD):
            assert (await change(WRONG)).status_code == 401
        assert_throttled(await change(PASSWORD), 1)
        clock.advance(1)
        assert (await change(PASSWORD)).status_code == 204


async def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(http: httpx.AsyncClient) -> None:
    # The default test client's peer is 127.0.0.1, a trusted proxy by default.
    guesser, other = {"X-Forwarded-For": "192.0.2.50"}, {"X-Forwarded-For": "192.0.2.51"}
    for n in range(ADDRESS_THRESHOLD):
        response = await http.post("/v2/auth/login", json={"login": f"user{n}", "password": "x"}, headers=guesser)
        assert response.status_code == 401
    body = {"login": "bob", "password": PASSWORD}
    assert (await http.post("/v2/auth/login", json=body, headers=guesser)).status_code == 429
    assert (await http.post("/v2/auth/login", json=body, headers=other)).status_code == 200
