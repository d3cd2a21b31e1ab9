"""Copy the metadata database into another (SQLite to PostgreSQL, `pinhole migrate db`).

The target is migrated to the same head as the source first, then every table is copied in foreign-key order, in
batches, inside ONE transaction: a failed copy leaves the target as it was, so a rerun starts cleanly. The usage
counter tables (`client_counters`, `storage_totals`) are not copied: the triggers of migration 0004 rebuild them
from the copied rows, exactly as on the source; the result is then checked against the rows (what
`pinhole stats recount` does) and any difference is reported as a failure. Autoincrement sequences are moved past
the copied ids so new rows do not collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Integer, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pinhole.db.engine import Database
from pinhole.db.migrate import pending_revisions, upgrade
from pinhole.db.models import Base
from pinhole.errors import Conflict
from pinhole.services import stats

DERIVED_TABLES = frozenset({"client_counters", "storage_totals"})
"""Kept by triggers from the other tables; rebuilt on the target, never copied."""

DEFAULT_BATCH_SIZE = 500


class TargetNotEmpty(Conflict):
    """The target database already holds rows (and `--force` was not given)."""


class SourceOutdated(Conflict):
    """The source database is not at the newest migration."""


@dataclass
class DbCopyReport:
    """Rows per copied table (source, target), and what did not match."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    counter_drift: list[stats.Drift] = field(default_factory=list)

    @property
    def mismatched(self) -> list[str]:
        return [name for name, (source, target) in self.tables.items() if source != target]

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.counter_drift


Progress = Callable[[str, int], None]
"""Called with a table's name and the number of rows just copied into it."""


def copied_tables() -> list[Table]:
    """Every table to copy, parents before children."""
    return [table for table in Base.metadata.sorted_tables if table.name not in DERIVED_TABLES]


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _occupied(target: Database) -> list[str]:
    async with target.read_engine.connect() as conn:
        return [table.name for table in copied_tables() if await _count(conn, table)]


async def _empty(conn: AsyncConnection, *, postgres: bool) -> None:
    tables = Base.metadata.sorted_tables
    if postgres:
        await conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
        return
    for table in reversed(tables):
        await conn.execute(table.delete())


async def _snapshot(conn: AsyncConnection, *, sqlite: bool) -> None:
    """Read every table from one snapshot, so rows written meanwhile cannot break foreign keys in the copy."""
    if sqlite:
        # The read engine runs in autocommit; an explicit deferred BEGIN pins one WAL snapshot without locking writers.
        await conn.exec_driver_sql("BEGIN")
    else:
        await conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


async def _copy_table(
    source: AsyncConnection, target: AsyncConnection, table: Table, batch_size: int, progress: Progress | None
) -> None:
    order = list(table.primary_key.columns)
    result = await source.stream(select(table).order_by(*order))
    async for batch in result.partitions(batch_size):
        await target.execute(insert(table), [dict(row._mapping) for row in batch])
        if progress is not None:
            progress(table.name, len(batch))


def _serial_columns(table: Table) -> list[str]:
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
        return [pk[0].name]
    return []


async def _fix_sequences(conn: AsyncConnection) -> None:
    """Move each serial column's sequence past the largest copied id (PostgreSQL; SQLite needs nothing)."""
    for table in Base.metadata.sorted_tables:
        for column in _serial_columns(table):
            sequence = (
                await conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column})
            ).scalar_one()
            if sequence is None:
                continue
            await conn.execute(
                text(
                    f'SELECT setval(:s, COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{table.name}"'
                ),
                {"s": sequence},
            )


async def copy_database(
    *,
    source: Database,
    target: Database,
    force: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> DbCopyReport:
    """Migrate `target`, copy every row of `source` into it, and compare row counts and usage counters.

    Raises `SourceOutdated` when the source has pending migrations and `TargetNotEmpty` when the target holds rows
    and `force` is false; with `force` the target's rows are deleted first (in the same transaction as the copy).
    """
    if await pending_revisions(source):
        raise SourceOutdated("The source database has pending migrations; run `pinhole db upgrade` on it first.")
    await upgrade(target)
    occupied = await _occupied(target)
    if occupied and not force:
        raise TargetNotEmpty(
            f"The target database is not empty (rows in: {', '.join(occupied)}); "
            "use --force to delete them and copy again."
        )
    postgres = not target.is_sqlite
    async with source.read_engine.connect() as src, target.write_engine.begin() as dst:
        await _snapshot(src, sqlite=source.is_sqlite)
        await _empty(dst, postgres=postgres)
        for table in copied_tables():
            await _copy_table(src, dst, table, batch_size, progress)
        if postgres:
            await _fix_sequences(dst)
    return await _compare(source, target)


async def _compare(source: Database, target: Database) -> DbCopyReport:
    report = DbCopyReport()
    async with source.read_engine.connect() as src, target.read_engine.connect() as dst:
        for table in copied_tables():
            report.tables[table.name] = (await _count(src, table), await _count(dst, table))
    report.counter_drift = await stats.recount(db=target, fix=False)
    return report
