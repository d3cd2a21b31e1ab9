"""`pinhole db ...`: schema migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import typer

from pinhole.cli.common import ConfigOption, run, settings_from
from pinhole.db.engine import Database
from pinhole.db.migrate import pending_revisions, upgrade
from pinhole.settings import Settings

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


async def open_database(settings: Settings) -> Database:
    """The database, migrated first on the embedded default; elsewhere refuse to run on an old schema."""
    if settings.should_auto_migrate:
        await apply_migrations(settings)
    database = Database(settings.database_url)
    if not settings.should_auto_migrate and await pending_revisions(database):
        await database.dispose()
        typer.echo("error: the database schema is not up to date; run `pinhole db upgrade`", err=True)
        raise typer.Exit(2)
    return database


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[Database]:
    """`open_database`, disposed of when the block ends."""
    database = await open_database(settings)
    try:
        yield database
    finally:
        await database.dispose()


async def apply_migrations(settings: Settings) -> list[str]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    try:
        pending = await pending_revisions(database)
        if pending:
            await upgrade(database)
        return pending
    finally:
        await database.dispose()


@app.command("upgrade", help="Apply every pending migration.")
def upgrade_command(config: ConfigOption = None) -> None:
    settings = settings_from(config)
    applied = run(apply_migrations(settings))
    typer.echo(f"applied {len(applied)} migration(s)" if applied else "database is up to date")
