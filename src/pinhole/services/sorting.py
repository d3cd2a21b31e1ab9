"""Listings sorted by what a person picks in the web app: date taken, upload date (newest or oldest first), size, name.

The API listings page by time with cursors (`services.listing`); these orders page by number instead (an OFFSET:
fine for the page-at-a-time browsing of one account's images). Ties go by id, so pages never overlap.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func

from pinhole.db.engine import Database
from pinhole.db.models import Image
from pinhole.errors import InvalidInput
from pinhole.security.principal import Principal
from pinhole.services.listing import ImageFilter, visible_images


class ImageSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    LARGEST = "largest"
    SMALLEST = "smallest"
    NAME = "name"
    TAKEN = "taken"  # newest photo first, by its EXIF date; images without one after, newest upload first

    @classmethod
    def parse(cls, value: str) -> ImageSort:
        try:
            return cls(value or cls.NEWEST)
        except ValueError:
            raise InvalidInput(f"Sort by one of: {', '.join(cls)}.", field="sort") from None

    def columns(self) -> tuple[Any, ...]:
        return {
            ImageSort.NEWEST: (Image.created_at.desc(), Image.id.desc()),
            ImageSort.OLDEST: (Image.created_at.asc(), Image.id.asc()),
            ImageSort.LARGEST: (Image.size.desc(), Image.id.desc()),
            ImageSort.SMALLEST: (Image.size.asc(), Image.id.asc()),
            ImageSort.NAME: (func.lower(func.coalesce(Image.original_name, "")).asc(), Image.id.asc()),
            ImageSort.TAKEN: (Image.taken_at.desc().nulls_last(), Image.created_at.desc(), Image.id.desc()),
        }[self]


async def sorted_images(
    *,
    db: Database,
    principal: Principal,
    flt: ImageFilter,
    sort: ImageSort,
    page: int,
    limit: int,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Image], bool]:
    """Page `page` (from 1) of the images in `sort` order, and whether there is a next page.

    `visible` replaces what `principal` may list (an album's images as its visitor or token holder sees them)."""
    if page < 1:
        raise InvalidInput("page must be 1 or more.", field="page")
    query = (
        visible_images(principal, flt, visible).order_by(*sort.columns()).offset((page - 1) * limit).limit(limit + 1)
    )
    async with db.reader() as session:
        rows = list(await session.scalars(query))
    return rows[:limit], len(rows) > limit
