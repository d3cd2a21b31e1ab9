"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

A model changed without a migration (or a migration that forgot an index) shows up here as a named difference.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from pinhole.db.models import Base
from pinhole.runtime import Runtime

pytestmark = pytest.mark.anyio


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    async with runtime.db.write_engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []
