"""What a client imposes on its images' delivery: a default watermark on every public variant, and whether
originals are kept from strangers (`clients.watermark`, `clients.protect_originals`; docs/transforms.md).

Read through a per-process cache (`ClientDefaults`), refreshed after `ttl` seconds; a change made through this
process is seen at once, other processes see it within `ttl` (plus the one query that reads it again). The warm
path reads the cache only (`cached`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl

from sqlalchemy import select

from pinhole.concurrency.singleflight import Rereads
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
    """The per-process cache of client rules.

    Under load every request for a client's images would reach an expired entry at the same moment; each would
    then run the same query and leave the warm path (measured: 64 connections on one cached variant opened ~50
    SQLite connections at each expiry, one thread each, and stalled the event loop 40-360 ms, the p99 of
    bench/peers.py's `cached_p99_vs_minimal`). So one request reads the rules again (`rereads`) while the others
    keep the expired ones, and rules that come back unchanged stay the same object, which keeps the warm path's
    prepared answers current (they compare rules by identity).
    """

    db: Database
    ttl: float = 10.0
    clock: Callable[[], float] = time.monotonic
    rules: dict[str, tuple[float, ClientRules]] = field(default_factory=dict)
    rereads: Rereads[ClientRules] = field(default_factory=Rereads)

    def cached(self, client_id: str) -> ClientRules | None:
        """The rules while fresh, or while one request reads them again; None when the caller must `get` them."""
        found = self.rules.get(client_id)
        if found is None or (found[0] < self.clock() and client_id not in self.rereads):
            return None
        return found[1]

    async def get(self, client_id: str) -> ClientRules:
        found = self.cached(client_id)
        if found is not None:
            return found
        return await self.rereads.run(
            client_id, lambda: self._read(client_id), lambda rules: self._keep(client_id, rules)
        )

    async def _read(self, client_id: str) -> ClientRules:
        async with self.db.reader() as session:
            row = (
                await session.execute(select(Client.watermark, Client.protect_originals).where(Client.id == client_id))
            ).first()
        rules = ClientRules()
        if row is not None:
            mark = watermark_options(row.watermark) if row.watermark else None
            rules = ClientRules(watermark=mark, protect_originals=bool(row.protect_originals))
        previous = self.rules.get(client_id)
        return previous[1] if previous is not None and previous[1] == rules else rules

    def _keep(self, client_id: str, rules: ClientRules) -> None:
        if len(self.rules) > 10_000:
            self.rules.clear()
        self.rules[client_id] = (self.clock() + self.ttl, rules)

    def forget(self, client_id: str) -> None:
        self.rereads.changed()
        self.rules.pop(client_id, None)


def with_client_watermark(options: TransformOptions, *, image: Image, rules: ClientRules) -> TransformOptions:
    """Every public variant carries the client's watermark unless the request names its own."""
    if rules.watermark is None or options.is_identity or image.is_private or options.watermark is not None:
        return options
    return replace(options, watermark=rules.watermark)
