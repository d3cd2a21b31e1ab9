"""Listing images (and albums): filters, page/limit paging and an opaque keyset cursor that stays fast at any depth.

`paginate` is the one paging implementation: any table with `created_at` (and `updated_at` to order by it) and `id`
is listed newest first with it. A cursor names its order and its direction: a `next_cursor` continues after a
page's last row, a `prev_cursor` goes back to the rows before its first; a cursor of one order is refused by the
other. Keyset paging never repeats or skips a row whose position stays put; a row whose `updated_at` changes while
someone pages by it moves to the top (seen again only by who starts over).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import AlbumImage, Image, ImageTag
from pinhole.db.totals import Totals
from pinhole.errors import InvalidInput
from pinhole.security.policy import readable_filter
from pinhole.security.principal import Principal

MAX_LIMIT = 100
MAX_PAGE = 1_000_000  # page x limit stays far inside a 64-bit OFFSET; deeper paging is what cursors are for


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
    min_size: int | None = None  # bytes, inclusive (the admin's moderation page)
    max_size: int | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    limit: int
    page: int | None
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None = None  # null on the first page


ImagePage = Page[Image]


class Order(StrEnum):
    """What a listing is ordered by, newest first (ties broken by id)."""

    CREATED = "created"
    UPDATED = "updated"

    def column(self, model: Any) -> Any:
        return model.updated_at if self is Order.UPDATED else model.created_at


@dataclass(frozen=True)
class Cursor:
    """A position in one order: the rows after it (`backwards=False`) or before it."""

    order: Order
    backwards: bool
    moment: datetime
    id: str


def encode_cursor(row: Any, *, order: Order = Order.CREATED, backwards: bool = False) -> str:
    """The position after `row` in `order` (before it when `backwards`)."""
    moment = order.column(row)
    raw = json.dumps([order.value, "b" if backwards else "f", moment.isoformat(), row.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(raw, list) and len(raw) == 2:  # cursors made before orders existed: by creation, forwards
            raw = [Order.CREATED.value, "f", *raw]
        order, direction, moment, row_id = raw
        if direction not in ("f", "b") or not isinstance(row_id, str):
            raise ValueError(direction)
        return Cursor(Order(order), direction == "b", datetime.fromisoformat(moment), row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not valid; use the nextCursor (or prevCursor) of a page.", field="cursor"
        ) from exc


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern (escape `\\`) matching `text` anywhere."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def visible_images(principal: Principal, flt: ImageFilter, visible: ColumnElement[bool] | None = None) -> Select[Image]:
    """The images `principal` may list (or `visible` ones: an album's), narrowed by `flt`, unordered (for listings
    ordered another way)."""
    return _visible(select(Image), principal, flt, visible)


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
    if flt.min_size is not None:
        query = query.where(Image.size >= flt.min_size)
    if flt.max_size is not None:
        query = query.where(Image.size <= flt.max_size)
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
    order: Order = Order.CREATED,
) -> Page[Image]:
    """Page mode (page/limit, with a total) or cursor mode (keyset, no total: it stays fast at any depth).

    `visible` replaces the policy's listing filter when the caller decided visibility itself (an album's images).
    """
    base = _visible(select(Image), principal, flt, visible)
    async with db.reader() as session:
        return await paginate(
            session, base, Image, limit=limit, page=page, cursor=cursor, order=order, totals=db.totals
        )


async def paginate(
    session: AsyncSession,
    base: Select[T],
    model: Any,
    *,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
    order: Order = Order.CREATED,
    totals: Totals | None = None,
) -> Page[T]:
    """One page of `base` (rows of `model`), newest first in `order`: by page number (with a total) or at a cursor.

    Page mode costs an OFFSET (rows before the page are read and skipped: deep pages cost in proportion to their
    depth) and a total; with `totals` the total is reused for a few seconds (db/totals.py) instead of counted on
    every request. Cursors cost one page of rows at any depth.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if cursor is not None:
        return await _at_cursor(session, base, model, limit=limit, at=_cursor_for(cursor, order))
    page = page or 1
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE}.", field="page")
    column = order.column(model)
    ordered = base.order_by(column.desc(), model.id.desc())
    rows = list(await session.scalars(ordered.offset((page - 1) * limit).limit(limit + 1)))
    if totals is not None:
        total: int | None = await totals.count(session, base)
    else:
        total = await session.scalar(select(func.count()).select_from(base.subquery()))
    items = rows[:limit]
    return Page(
        items=items,
        limit=limit,
        page=page,
        total=total,
        next_cursor=encode_cursor(items[-1], order=order) if len(rows) > limit else None,
        prev_cursor=encode_cursor(items[0], order=order, backwards=True) if page > 1 and items else None,
    )


def _cursor_for(cursor: str, order: Order) -> Cursor:
    at = decode_cursor(cursor)
    if at.order is not order:
        raise InvalidInput(
            f"This cursor belongs to the listing ordered by {at.order.value} time, not by {order.value} time; "
            "start again without a cursor.",
            field="cursor",
        )
    return at


async def _at_cursor(session: AsyncSession, base: Select[T], model: Any, *, limit: int, at: Cursor) -> Page[T]:
    """The `limit` rows after `at` (or before it, read oldest first then turned round), and cursors around them."""
    column = at.order.column(model)
    # Row-value comparisons, not `a < x OR (a = x AND id < y)`: both databases turn them into the start of an index
    # range, so a deep cursor reads one page of rows (tests/db/test_listing_plans.py checks the plans).
    position, at_cursor = tuple_(column, model.id), tuple_(at.moment, at.id)
    if at.backwards:
        ordered = base.where(position > at_cursor).order_by(column.asc(), model.id.asc())
    else:
        ordered = base.where(position < at_cursor).order_by(column.desc(), model.id.desc())
    rows = list(await session.scalars(ordered.limit(limit + 1)))
    more = len(rows) > limit  # rows beyond this page in the direction of travel
    items = rows[:limit][::-1] if at.backwards else rows[:limit]
    if not items:
        return Page(items=[], limit=limit, page=None, total=None, next_cursor=None, prev_cursor=None)
    first, last = items[0], items[-1]
    after = encode_cursor(last, order=at.order)
    before = encode_cursor(first, order=at.order, backwards=True)
    return Page(
        items=items,
        limit=limit,
        page=None,
        total=None,
        next_cursor=after if more or at.backwards else None,
        prev_cursor=before if more or not at.backwards else None,
    )
