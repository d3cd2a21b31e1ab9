"""SQLite's read engine runs in autocommit and hands connections back without a reset (`pool_reset_on_return`
off): a read never opens a transaction, so the ROLLBACK the pool would send on return is a no-op that still cost a
round trip to aiosqlite's thread on every read. These tests hold it to that: no read leaves a snapshot behind (a
checkpoint can take every frame), and what a writer commits is seen by the next read.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text

from pinhole.db.engine import Database

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    async with database.writer() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER)"))
        await session.execute(text("INSERT INTO t VALUES (1)"))
    return database


async def test_reads_leave_no_transaction_and_no_snapshot(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "reads.db"
    for _ in range(3):
        async with db.reader() as session:
            assert await session.scalar(text("SELECT count(*) FROM t")) == 1
    async with db.reader() as session:
        raw = await session.connection()
        dbapi = await raw.get_raw_connection()
        assert dbapi.driver_connection is not None
        assert not dbapi.driver_connection._conn.in_transaction  # aiosqlite's sqlite3 connection
    async with db.writer() as session:
        await session.execute(text("INSERT INTO t VALUES (2)"))
    with contextlib.closing(sqlite3.connect(path)) as other:
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0  # no reader holds a snapshot: the whole log went back into the database
    await db.dispose()


async def test_read_connections_go_back_to_the_pool_without_the_pools_rollback(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.reader() as session:
        await session.scalar(text("SELECT 1"))  # the connection is open and pooled
    rollbacks: list[object] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    for _ in range(3):
        async with db.reader() as session:
            await session.scalar(text("SELECT 1"))
    assert len(rollbacks) == 3  # the session's own end of its (empty) transaction; the pool adds none
    await db.dispose()


async def test_a_read_after_a_write_sees_it(db: Database) -> None:
    async with db.reader() as session:
        assert await session.scalar(text("SELECT max(n) FROM t")) == 1
    async with db.writer() as session:
        await session.execute(text("INSERT INTO t VALUES (7)"))
    async with db.reader() as session:
        assert await session.scalar(text("SELECT max(n) FROM t")) == 7
    await db.dispose()


async def test_a_failed_read_leaves_the_connection_usable(db: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with db.reader() as session:
            await session.execute(text("SELECT * FROM missing"))
    async with db.reader() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1
    await db.dispose()
