"""Listing images: filters, page/limit paging and an opaque keyset cursor that stays fast at any depth."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select

from pinhole.db.engine import Database
from pinhole.db.models import Image, ImageTag
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


@dataclass(frozen=True)
class ImagePage:
    items: list[Image]
    limit: int
    page: int | None
    total: int | None
    next_cursor: str | None


def encode_cursor(image: Image) -> str:
    raw = json.dumps([image.created_at.isoformat(), image.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, image_id = json.loads(raw)
        return datetime.fromisoformat(created), str(image_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid; use the nextCursor of a previous page.", field="cursor") from exc


def _visible(query: Select[Image], principal: Principal, flt: ImageFilter) -> Select[Image]:
    query = query.where(readable_filter(principal, Image))
    if principal.is_admin:  # admins may read everything, but a listing stays within the tenant acted in
        query = query.where(Image.client_id == principal.client_id)
    if flt.owner_id is not None:
        query = query.where(Image.owner_id == flt.owner_id)
    if flt.tag is not None:
        query = query.where(exists().where(ImageTag.image_id == Image.id, ImageTag.tag == flt.tag))
    if flt.search:
        pattern = "%" + flt.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
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
) -> ImagePage:
    """Page mode (page/limit, with a total) or cursor mode (keyset, no total: it stays fast at any depth)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    base = _visible(select(Image), principal, flt)
    ordered = base.order_by(Image.created_at.desc(), Image.id.desc())
    async with db.reader() as session:
        if cursor is not None:
            created, last_id = decode_cursor(cursor)
            after = or_(Image.created_at < created, and_(Image.created_at == created, Image.id < last_id))
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
    return ImagePage(items=items, limit=limit, page=page, total=total, next_cursor=next_cursor)
