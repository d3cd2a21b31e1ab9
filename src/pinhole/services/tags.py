"""Tag rules shared by every API (trimmed, lower-case, de-duplicated, bounded), and counting tags in use."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from pinhole.db.engine import Database
from pinhole.db.models import Image, ImageTag
from pinhole.errors import InvalidInput
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services.listing import like_pattern

MAX_TAGS = 30
MAX_TAG_LENGTH = 64


def normalize_tags(values: Iterable[str], *, field: str = "tags") -> tuple[str, ...]:
    """The canonical tag set, sorted."""
    tags: dict[str, None] = {}
    for raw in values:
        tag = raw.strip().lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not tag.isprintable():
            raise InvalidInput(f"Each tag must be 1-{MAX_TAG_LENGTH} printable characters.", field=field)
        tags[tag] = None
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags per image.", field=field)
    return tuple(sorted(tags))


def split_tag_fields(values: Iterable[str], *, field: str = "tags") -> tuple[str, ...]:
    """Tags as form fields arrive as repeated fields, one JSON array, or comma-separated text: accept all three."""
    found: list[str] = []
    for value in values:
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except ValueError as exc:
                raise InvalidInput("tags is not a valid JSON array.", field=field) from exc
            if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
                raise InvalidInput("tags must be an array of strings.", field=field)
            found.extend(parsed)
        else:
            found.extend(stripped.split(","))
    return normalize_tags(found, field=field)


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int


async def count_tags(
    *,
    db: Database,
    principal: Principal,
    search: str | None,
    limit: int,
    all_clients: bool = False,
    client_id: str | None = None,
) -> list[TagCount]:
    """Tags of the images the principal may read in its own tenant (only its own images when it is a user), with
    how many such images carry each: most used first, then by name. `search` matches anywhere in the tag.

    `all_clients` (administrators only: the admin API) counts every client's images, or only `client_id`'s."""
    policy.require(principal, policy.Action.ADMINISTER if all_clients else policy.Action.LIST, hide=False)
    count = func.count().label("n")
    query = (
        select(ImageTag.tag, count)
        .join(Image, Image.id == ImageTag.image_id)
        .where(policy.readable_filter(principal, Image))
        .group_by(ImageTag.tag)
        .order_by(count.desc(), ImageTag.tag)
        .limit(limit)
    )
    if not all_clients:
        query = query.where(Image.client_id == principal.client_id)
        if principal.user_id is not None:
            query = query.where(Image.owner_id == principal.user_id)
    if client_id is not None:
        query = query.where(Image.client_id == client_id)
    needle = (search or "").strip().lower()
    if needle:
        query = query.where(ImageTag.tag.like(like_pattern(needle), escape="\\"))
    async with db.reader() as session:
        rows = await session.execute(query)
    return [TagCount(tag=tag, count=int(n)) for tag, n in rows]
