"""Listing images (and albums): filters, page/limit paging and an opaque keyset cursor that stays fast at any depth.

`paginate` is the one paging implementation: any table with `created_at` and `id` is listed newest first with it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import AlbumImage, Image, ImageTag
from pinhole.errors import InvalidInput
from pinhole.security.policy import readable_filter
from pinhole.security.principal import Principal

MAX_LIMIT = 100


@dataclass(frozen=True)
class ImageFilter:
    tag: str | None = None
    search: str | None = None
    owner_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    album_id: str | None = None  # only images in this album (the caller checks it may see the album)
    # The admin API's: every tenant (admins only; else the tenant acted in), one client, all of several tags, privacy.
    all_clients: bool = False
    client_id: str | None = None
    tags: tuple[str, ...] = ()
    is_private: bool | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    limit: int
    page: int | None
    total: int | None
    next_cursor: str | None


ImagePage = Page[Image]


def encode_cursor(row: Any) -> str:
    """The position after `row` (any row with `created_at` and `id`)."""
    raw = json.dumps([row.created_at.isoformat(), row.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, image_id = json.loads(raw)
        return datetime.fromisoformat(created), str(image_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid; use the nextCursor of a previous page.", field="cursor") from exc


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern (escape `\\`) matching `text` anywhere."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _visible(
    query: Select[Image], principal: Principal, flt: ImageFilter, visible: ColumnElement[bool] | None
) -> Select[Image]:
    if visible is not None:
        query = query.where(visible)
    else:
        query = query.where(readable_filter(principal, Image))
        if principal.is_admin and not flt.all_clients:  # admins may read everything; a listing stays in one tenant
            query = query.where(Image.client_id == principal.client_id)
    if flt.album_id is not None:
        query = query.where(exists().where(AlbumImage.image_id == Image.id, AlbumImage.album_id == flt.album_id))
    if flt.client_id is not None:
        query = query.where(Image.client_id == flt.client_id)
    if flt.is_private is not None:
        query = query.where(Image.is_private.is_(flt.is_private))
    for tag in flt.tags:
        query = query.where(exists().where(ImageTag.image_id == Image.id, ImageTag.tag == tag))
    if flt.owner_id is not None:
        query = query.where(Image.owner_id == flt.owner_id)
    if flt.tag is not None:
        query = query.where(exists().where(ImageTag.image_id == Image.id, ImageTag.tag == flt.tag))
    if flt.search:
        pattern = like_pattern(flt.search)
        query = query.where(
            or_(
                func.lower(Image.description).like(pattern, escape="\\"),
                func.lower(Image.original_name).like(pattern, escape="\\"),
            )
        )
    if flt.created_from is not None:
        query = query.where(Image.created_at >= flt.created_from)
    if flt.created_to is not None:
        query = query.where(Image.created_at < flt.created_to)
    return query


async def list_images(
    *,
    db: Database,
    principal: Principal,
    flt: ImageFilter,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
    visible: ColumnElement[bool] | None = None,
) -> Page[Image]:
    """Page mode (page/limit, with a total) or cursor mode (keyset, no total: it stays fast at any depth).

    `visible` replaces the policy's listing filter when the caller decided visibility itself (an album's images).
    """
    base = _visible(select(Image), principal, flt, visible)
    async with db.reader() as session:
        return await paginate(session, base, Image, limit=limit, page=page, cursor=cursor)


async def paginate(
    session: AsyncSession,
    base: Select[T],
    model: Any,
    *,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
) -> Page[T]:
    """One page of `base` (rows of `model`), newest first: by page number (with a total) or after a cursor."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    ordered = base.order_by(model.created_at.desc(), model.id.desc())
    if cursor is not None:
        created, last_id = decode_cursor(cursor)
        # A row-value comparison, not `a < x OR (a = x AND id < y)`: both databases turn it into the start of an
        # index range, so a deep cursor reads one page of rows (tests/db/test_listing_plans.py checks the plans).
        after = tuple_(model.created_at, model.id) < tuple_(created, last_id)
        rows = list(await session.scalars(ordered.where(after).limit(limit + 1)))
        total = None
    else:
        page = page or 1
        if page < 1:
            raise InvalidInput("page must be 1 or more.", field="page")
        rows = list(await session.scalars(ordered.offset((page - 1) * limit).limit(limit + 1)))
        total = await session.scalar(select(func.count()).select_from(base.subquery()))
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1]) if len(rows) > limit else None
    return Page(items=items, limit=limit, page=page, total=total, next_cursor=next_cursor)
