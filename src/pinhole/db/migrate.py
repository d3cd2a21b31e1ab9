"""Run Alembic migrations programmatically (used by `pinhole db upgrade`, `pinhole serve` and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from pinhole.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _pending(connection: Connection) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    return [rev.revision for rev in script.iterate_revisions("heads", current or "base")]


async def upgrade(database: Database, revision: str = "head") -> None:
    async with database.write_engine.connect() as conn:
        await conn.run_sync(_upgrade, revision)
        await conn.commit()


async def pending_revisions(database: Database) -> list[str]:
    async with database.read_engine.connect() as conn:
        return await conn.run_sync(_pending)
