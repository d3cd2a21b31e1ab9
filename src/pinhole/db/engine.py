"""Engine and sessions: `reader()` for queries, `writer()` for transactions that change rows.

On SQLite, writers start with BEGIN IMMEDIATE so two writers queue on the lock instead of failing
with "database is locked" when a read transaction upgrades; readers stay concurrent thanks to WAL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from pinhole.db.totals import Totals

SQLITE_BUSY_SECONDS = 30
CheckoutObserver = Callable[[float], None]  # told the seconds each connection checkout took (metrics)


def timed_pool(observer: CheckoutObserver) -> type[AsyncAdaptedQueuePool]:
    """The async queue pool, telling `observer` how long each checkout took (waiting for a free connection,
    opening one, the pre-ping). A class per observer: `Pool.recreate()` builds `self.__class__`, so it keeps it."""

    def connect(self: AsyncAdaptedQueuePool) -> PoolProxiedConnection:
        started = time.perf_counter()
        try:
            return AsyncAdaptedQueuePool.connect(self)
        finally:
            observer(time.perf_counter() - started)

    return type("TimedQueuePool", (AsyncAdaptedQueuePool,), {"connect": connect})


def _pool_class(url: str, observer: CheckoutObserver | None) -> dict[str, Any]:
    """`poolclass` for `create_async_engine` when checkouts are observed (in-memory SQLite keeps its static pool)."""
    if observer is None or ":memory:" in url or "mode=memory" in url:
        return {}
    return {"poolclass": timed_pool(observer)}


def _sqlite_engine(
    url: str, *, echo: bool, immediate: bool | None, observer: CheckoutObserver | None = None
) -> AsyncEngine:
    """`immediate`: True for writers (BEGIN IMMEDIATE), False for BEGIN, None for autocommit reads."""
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_SECONDS},
        # Reads never open a transaction (autocommit, no BEGIN): the pool's ROLLBACK on return would be a no-op
        # costing a round trip to aiosqlite's thread on every read (tests/db/test_sqlite_reads.py).
        **({"pool_reset_on_return": None} if immediate is None else {}),
        **_pool_class(url, observer),
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if immediate is not None:

        @event.listens_for(sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class PoolOptions:
    """How a PostgreSQL process holds its connections (SQLite opens a file, none of this applies)."""

    size: int = 10
    max_overflow: int = 10
    timeout_seconds: float = 10.0
    recycle_seconds: int = 1800
    statement_timeout_seconds: float = 30.0


def _postgres_engine(
    url: str, *, echo: bool, pool: PoolOptions, observer: CheckoutObserver | None = None
) -> AsyncEngine:
    server_settings = {"application_name": "pinhole"}
    if pool.statement_timeout_seconds > 0:
        server_settings["statement_timeout"] = str(round(pool.statement_timeout_seconds * 1000))
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.timeout_seconds,
        pool_recycle=pool.recycle_seconds or -1,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
        **_pool_class(url, observer),
    )


class Database:
    """The process's engines and session factories."""

    def __init__(
        self,
        url: str,
        *,
        pool: PoolOptions | None = None,
        echo: bool = False,
        totals_ttl: float = 0.0,
        on_checkout: CheckoutObserver | None = None,
    ):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # Reads run in autocommit (each statement its own snapshot): no BEGIN round trip on the hot path.
            self.read_engine = _sqlite_engine(url, echo=echo, immediate=None, observer=on_checkout)
            self.write_engine = _sqlite_engine(url, echo=echo, immediate=True, observer=on_checkout)
        else:
            self.read_engine = _postgres_engine(url, echo=echo, pool=pool or PoolOptions(), observer=on_checkout)
            self.write_engine = self.read_engine
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.totals = Totals(totals_ttl)  # listing totals (page mode), see db/totals.py
        self.totals.watch(self.write_engine.sync_engine)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self._write() as session, session.begin():
            yield session

    def insert(self, model: Any) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that supports ON CONFLICT on this database."""
        return sqlite.insert(model) if self.is_sqlite else postgresql.insert(model)

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
