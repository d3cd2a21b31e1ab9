"""PostgreSQL connection limits: a statement past `statement_timeout` is cancelled by the server, and a request
that finds no free connection (or whose statement was cancelled) answers 503 with Retry-After, not 500."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from pinhole.api.errors import is_database_busy
from pinhole.runtime import Runtime
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio

LIMITS = {
    "database": {"statement_timeout_seconds": 0.2, "pool_size": 1, "max_overflow": 0, "pool_timeout_seconds": 0.2}
}


def _postgres_only(runtime: Runtime) -> None:
    if runtime.settings.is_sqlite:
        pytest.skip("connection pool and statement timeout are PostgreSQL settings")


@pytest.mark.parametrize("settings_overrides", [LIMITS])
async def test_a_long_statement_is_cancelled_by_the_server(runtime: Runtime) -> None:
    _postgres_only(runtime)
    async with runtime.db.reader() as session:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as raised:
            await session.execute(text("SELECT pg_sleep(5)"))
    assert is_database_busy(raised.value)
    async with runtime.db.reader() as session:
        assert (await session.execute(text("SHOW application_name"))).scalar() == "pinhole"


@pytest.mark.parametrize("settings_overrides", [LIMITS])
async def test_no_free_connection_is_503_with_retry_after(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    _postgres_only(runtime)
    async with runtime.db.reader() as holder:
        await holder.execute(text("SELECT 1"))  # the pool's only connection stays checked out
        response = await http.get("/v2/images", headers=tenant.headers())
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "database_busy"
    assert (await http.get("/v2/images", headers=tenant.headers())).status_code == 200


def test_other_database_errors_are_not_busy() -> None:
    integrity = sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert not is_database_busy(integrity)
    assert not is_database_busy(ValueError("x"))
    assert is_database_busy(sqlalchemy.exc.TimeoutError("QueuePool limit reached"))
