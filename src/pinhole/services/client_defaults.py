"""What a client imposes on its images' delivery: a default watermark on every public variant, and whether
originals are kept from strangers (`clients.watermark`, `clients.protect_originals`; docs/transforms.md).

Read through a per-process cache (`ClientDefaults`), refreshed after `ttl` seconds; a change made through this
process is seen at once, other processes see it within `ttl`. The warm path reads the cache only (`cached`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl

from sqlalchemy import select

from pinhole.db.engine import Database
from pinhole.db.models import Client, Image
from pinhole.errors import InvalidInput, InvalidTransform
from pinhole.imaging.options import OutputLimits, TransformOptions, Watermark, make_transform

WATERMARK_KEYS = frozenset({"wm", "wm_gravity", "wm_margin", "wm_opacity", "wm_scale"})
_ANY_SIZE = OutputLimits(max_width=1, max_height=1, max_pixels=1)


def watermark_options(raw: str) -> Watermark:
    """A client's watermark setting (`wm=<id>&wm_opacity=0.4`) as a `Watermark`; InvalidInput names `watermark`."""
    try:
        pairs = dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=True))
        if set(pairs) - WATERMARK_KEYS or "wm" not in pairs:
            raise InvalidTransform(f"use only {', '.join(sorted(WATERMARK_KEYS))}, with wm", field="wm")
        found = make_transform(limits=_ANY_SIZE, **pairs).watermark  # type: ignore[arg-type]
    except (ValueError, InvalidTransform) as error:
        raise InvalidInput(f"watermark: {error}", field="watermark") from error
    assert found is not None
    return found


@dataclass(frozen=True)
class ClientRules:
    watermark: Watermark | None = None
    protect_originals: bool = False


@dataclass
class ClientDefaults:
    db: Database
    ttl: float = 10.0
    clock: Callable[[], float] = time.monotonic
    rules: dict[str, tuple[float, ClientRules]] = field(default_factory=dict)

    def cached(self, client_id: str) -> ClientRules | None:
        found = self.rules.get(client_id)
        return None if found is None or found[0] < self.clock() else found[1]

    async def get(self, client_id: str) -> ClientRules:
        found = self.cached(client_id)
        if found is not None:
            return found
        async with self.db.reader() as session:
            row = (
                await session.execute(select(Client.watermark, Client.protect_originals).where(Client.id == client_id))
            ).first()
        rules = ClientRules()
        if row is not None:
            mark = watermark_options(row.watermark) if row.watermark else None
            rules = ClientRules(watermark=mark, protect_originals=bool(row.protect_originals))
        if len(self.rules) > 10_000:
            self.rules.clear()
        self.rules[client_id] = (self.clock() + self.ttl, rules)
        return rules

    def forget(self, client_id: str) -> None:
        self.rules.pop(client_id, None)


def with_client_watermark(options: TransformOptions, *, image: Image, rules: ClientRules) -> TransformOptions:
    """Every public variant carries the client's watermark unless the request names its own."""
    if rules.watermark is None or options.is_identity or image.is_private or options.watermark is not None:
        return options
    return replace(options, watermark=rules.watermark)
