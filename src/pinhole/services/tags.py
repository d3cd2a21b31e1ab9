"""Tag rules shared by every API: trimmed, lower-case, de-duplicated, bounded."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pinhole.errors import InvalidInput

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
