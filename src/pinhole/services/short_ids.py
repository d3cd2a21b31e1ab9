"""Short public image ids (`img_` + 16 hex digits) derived from the image's UUID, without a column of their own.

`short_id` takes the first 16 hex digits of the UUID (dashes removed); `find_by_short_id` finds the image with a
range query on the primary key (`id >= '01234567-89ab-cdef' AND id < '01234567-89ab-cdf0'`), so the primary-key
index answers it on SQLite and PostgreSQL alike, whatever the database's collation does with the dashes.

Two UUIDs share their first 64 bits with odds of about 2^-60 per pair for the 60 random bits of a version-4 UUID
(4 of the 64 are the fixed version digit): should it ever happen, the oldest image (then the smallest id) answers,
so a short id once handed out keeps naming the same image.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import raiseload

from pinhole.db.engine import Database
from pinhole.db.models import Image

PREFIX = "img_"
HEX_DIGITS = 16
PATTERN = re.compile(rf"{PREFIX}[0-9a-f]{{{HEX_DIGITS}}}")
_TOP = 16**HEX_DIGITS


def short_id(image_id: str) -> str:
    """`img_` and the first 16 hex digits of the image's UUID."""
    digits = image_id.replace("-", "").lower()[:HEX_DIGITS]
    if len(digits) != HEX_DIGITS:
        raise ValueError(f"not a UUID: {image_id!r}")
    return PREFIX + digits


def _uuid_prefix(value: int) -> str:
    digits = f"{value:016x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:]}"


def id_range(short: str) -> tuple[str, str | None]:
    """The primary-key range holding every UUID that starts with `short`'s digits: [low, high); high None = open."""
    if not PATTERN.fullmatch(short):
        raise ValueError(f"not a short image id: {short!r}")
    value = int(short.removeprefix(PREFIX), 16)
    return _uuid_prefix(value), (_uuid_prefix(value + 1) if value + 1 < _TOP else None)


async def find_by_short_id(*, db: Database, short: str) -> Image | None:
    """The image `short` names (without its tags, as serving needs), the oldest if two share it; None if none does."""
    if not PATTERN.fullmatch(short):
        return None
    low, high = id_range(short)
    stmt = select(Image).where(Image.id >= low).options(raiseload(Image.tags))
    if high is not None:
        stmt = stmt.where(Image.id < high)
    async with db.reader() as session:
        rows = list(await session.scalars(stmt.limit(16)))
    # The range holds exactly the ids with this prefix; checking again costs nothing and rules out any surprise.
    found = [row for row in rows if short_id(row.id) == short]
    return min(found, key=lambda row: (row.created_at, row.id), default=None)
