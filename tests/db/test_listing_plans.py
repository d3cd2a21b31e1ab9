"""Listing stays fast at a million images: the keyset (cursor) queries the API really sends are read straight off
an index, in order, touching about one page of rows however deep the cursor is.

The test fills a client with 1,000,000 images (copies of one uploaded image's row, made by SQL), takes a cursor
from deep in the list through the API, captures the statements the API then runs, and checks their plans
(PostgreSQL: `EXPLAIN (ANALYZE, FORMAT JSON)`, rows read by the images scan; SQLite: `EXPLAIN QUERY PLAN`, an index
search with no sort). It counts rows and plan nodes, never time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from pinhole.db.models import Image
from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio

ROWS = 1_000_000
LIMIT = 50
OWNERS = ("alice", "bob")


def _copy_image_rows(connection: Connection, source_id: str, *, postgres: bool) -> None:
    """ROWS copies of the source row, a second apart, alternating between two owners."""
    special = {
        "id": "md5(CAST(n AS TEXT))" if postgres else "lower(hex(randomblob(16)))",
        "owner_id": f"CASE WHEN n % 2 = 0 THEN '{OWNERS[0]}' ELSE '{OWNERS[1]}' END",
        "created_at": "created_at - n * INTERVAL '1 second'"
        if postgres
        else "datetime(created_at, '-' || n || ' seconds')",
    }
    special["updated_at"] = special["created_at"]
    columns = [column.name for column in Image.__table__.columns]
    values = ", ".join(special.get(name, name) for name in columns)
    series = (
        f"generate_series(1, {ROWS}) AS n"
        if postgres
        else f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {ROWS}) SELECT n FROM s)"
    )
    if postgres:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no counter triggers for the copies
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")  # a bulk load, not a request
    copy = f"INSERT INTO images ({', '.join(columns)}) SELECT {values} FROM images, {series} WHERE images.id = ?"
    connection.exec_driver_sql(copy.replace("?", "$1" if postgres else "?"), (source_id,))
    connection.exec_driver_sql("ANALYZE" if not postgres else "ANALYZE images")


@contextmanager
def _captured(runtime: Runtime) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM images" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    engine = runtime.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _check_postgres(connection: Connection, statement: str, parameters: Any) -> None:
    raw = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar()
    assert raw is not None
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = list(_nodes(plan))
    assert not [node for node in nodes if node["Node Type"] == "Sort"], plan
    scans = [node for node in nodes if node.get("Relation Name") == "images"]
    assert scans, plan
    assert all("Index" in node["Node Type"] for node in scans), plan
    read = sum(node["Actual Rows"] + node.get("Rows Removed by Filter", 0) for node in scans)
    assert read <= LIMIT + 1, plan


def _check_sqlite(connection: Connection, statement: str, parameters: Any) -> None:
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = [str(row[-1]) for row in rows]
    assert any(detail.startswith("SEARCH images USING INDEX ix_images_client") for detail in details), details
    assert not [detail for detail in details if "TEMP B-TREE" in detail], details


@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"enabled": False}}])
async def test_deep_cursor_pages_read_one_page_of_rows(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    postgres = not runtime.settings.is_sqlite
    source = await upload(http, tenant)
    async with runtime.db.write_engine.begin() as conn:
        await conn.run_sync(_copy_image_rows, source["id"], postgres=postgres)
    check = _check_postgres if postgres else _check_sqlite

    for owner in (None, OWNERS[0]):  # the client's listing, and one external user's
        deep_page = ROWS // LIMIT // (2 if owner else 1) - 10
        headers = tenant.headers(owner)
        response = await http.get("/v2/images", params={"page": deep_page, "limit": LIMIT}, headers=headers)
        assert response.status_code == 200, response.text
        cursor = response.json()["pagination"]["nextCursor"]
        assert cursor

        with _captured(runtime) as statements:
            response = await http.get("/v2/images", params={"cursor": cursor, "limit": LIMIT}, headers=headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == LIMIT
        assert statements, "the listing ran no SELECT on images"
        async with runtime.db.read_engine.connect() as conn:
            for statement, parameters in statements:
                await conn.run_sync(check, statement, parameters)
