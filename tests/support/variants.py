"""Variants made through the v2 API, listed by width, and given access times in a chosen order (no sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from pinhole.db.models import Variant
from pinhole.runtime import Runtime


async def render_widths(http: httpx.AsyncClient, image: dict[str, Any], widths: tuple[int, ...]) -> None:
    for width in widths:
        response = await http.get(f"/v2/images/{image['id']}", params={"w": width})
        assert response.status_code == 200, response.text


async def variants_by_width(runtime: Runtime) -> dict[int, Variant]:
    async with runtime.db.reader() as session:
        return {v.width: v for v in await session.scalars(select(Variant))}


async def touch_in_order(runtime: Runtime, widths: tuple[int, ...]) -> dict[int, Variant]:
    """Give the variants of these widths access times a minute apart, oldest first; returns them by width."""
    await runtime.usage.flush()  # buffered hits must not overwrite the times written here
    found = await variants_by_width(runtime)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    async with runtime.db.writer() as session:
        for minutes, width in enumerate(widths):
            when = base + timedelta(minutes=minutes)
            await session.execute(update(Variant).where(Variant.id == found[width].id).values(last_accessed_at=when))
    return found
