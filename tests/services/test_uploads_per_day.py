"""`stats.uploads_per_day`: the admin dashboard's chart data, counted by the database per UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import update

from pinhole.db.models import Image
from pinhole.runtime import Runtime
from pinhole.services import stats
from tests.api.v2helpers import upload
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _uploaded_at(runtime: Runtime, image_id: str, when: datetime) -> None:
    async with runtime.db.writer() as session:
        await session.execute(update(Image).where(Image.id == image_id).values(created_at=when))


async def test_counts_per_utc_day_with_empty_days(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    times = [
        datetime(2026, 3, 10, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 10, 11, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC),  # before the window
    ]
    for n, when in enumerate(times):
        image = await upload(http, tenant if n % 2 else other_tenant)  # every tenant counts
        await _uploaded_at(runtime, image["id"], when)
    days = await stats.uploads_per_day(db=runtime.db, days=3, now=NOW)
    assert days == [(date(2026, 3, 8), 1), (date(2026, 3, 9), 0), (date(2026, 3, 10), 2)]
    assert await stats.uploads_per_day(db=runtime.db, days=1, now=NOW) == [(date(2026, 3, 10), 2)]


async def test_bounds(runtime: Runtime) -> None:
    assert await stats.uploads_per_day(db=runtime.db, days=2, now=NOW) == [
        (date(2026, 3, 9), 0),
        (date(2026, 3, 10), 0),
    ]
    for days in (0, stats.MAX_DAYS + 1):
        with pytest.raises(ValueError, match="days must be between"):
            await stats.uploads_per_day(db=runtime.db, days=days, now=NOW)
