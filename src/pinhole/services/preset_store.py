"""The presets in force: those of the settings (`transforms.presets`, read-only) and those an admin adds at run
time (`transform_presets` table, `/v2/admin/presets` and the web admin page); docs/transforms.md, "Presets".

Every reader (the transform parser of each API and the warm fast path) reads one per-process snapshot,
synchronously. The process that changes a preset re-reads at once; the others re-read every
`server.settings_cache_seconds` (`run`, started by the app's lifespan), as they do for the run-time settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from pinhole.db.engine import Database
from pinhole.db.models import TransformPreset, User, utcnow
from pinhole.errors import Conflict, InvalidInput, NotFound
from pinhole.settings import PRESET_NAME

log = logging.getLogger(__name__)

MIN_REFRESH_SECONDS = 0.5  # settings_cache_seconds = 0: still a loop, not a busy one


@dataclass(frozen=True)
class Preset:
    """One preset as an admin sees it."""

    name: str
    query: str
    eager: bool
    configured: bool  # from the settings file or environment: read-only here
    updated_by: str | None = None
    updated_by_name: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PresetSnapshot:
    """What a parse needs: every preset's query by name, and the names rendered eagerly after uploads."""

    queries: Mapping[str, str]
    eager: tuple[str, ...]


class PresetStore:
    """Reads and changes the presets. `check(query)` validates a preset's query with the transform parser (raises
    InvalidInput naming what is wrong); the composition root hands it in, so this module knows no API."""

    def __init__(
        self,
        *,
        db: Database,
        configured: Mapping[str, str],
        configured_eager: Sequence[str],
        check: Callable[[str], None],
        ttl: float,
    ) -> None:
        self.db = db
        self.configured = dict(configured)
        self.configured_eager = tuple(configured_eager)
        self.check = check
        self.ttl = ttl
        self.snapshot = PresetSnapshot(queries=dict(configured), eager=self.configured_eager)
        self._stop = asyncio.Event()

    def current(self) -> PresetSnapshot:
        """The presets in force in this process now (no I/O: the fast path reads this)."""
        return self.snapshot

    async def refresh(self) -> PresetSnapshot:
        """Re-read the stored presets; the snapshot object changes only when they did (readers compare by
        identity to drop what they derived from the old one)."""
        async with self.db.reader() as session:
            rows = (await session.scalars(select(TransformPreset).order_by(TransformPreset.name))).all()
        queries = dict(self.configured)
        eager = list(self.configured_eager)
        for row in rows:
            if row.name in self.configured:
                continue  # the settings win: a stored row cannot be made for a configured name
            queries[row.name] = row.query
            if row.eager:
                eager.append(row.name)
        fresh = PresetSnapshot(queries=queries, eager=tuple(eager))
        if fresh != self.snapshot:
            self.snapshot = fresh
        return self.snapshot

    async def load(self) -> None:
        """`refresh`, keeping the last snapshot when the database is away for a moment."""
        try:
            await self.refresh()
        except SQLAlchemyError:
            log.warning("could not re-read the transform presets; the last ones read stay in force", exc_info=True)

    async def run(self) -> None:
        """Re-read every `ttl` seconds until `stop`, so changes made through other instances apply here."""
        while not self._stop.is_set():
            await self.load()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(self.ttl, MIN_REFRESH_SECONDS))

    def stop(self) -> None:
        self._stop.set()

    async def describe(self) -> list[Preset]:
        """Every preset, configured ones first, then stored ones, each by name (read from the database)."""
        async with self.db.reader() as session:
            rows = (await session.scalars(select(TransformPreset).order_by(TransformPreset.name))).all()
            users = {row.updated_by for row in rows if row.updated_by}
            names = {}
            if users:
                found = await session.execute(select(User.id, User.username).where(User.id.in_(users)))
                names = {item.id: item.username for item in found}
        eager = set(self.configured_eager)
        presets = [
            Preset(name=name, query=query, eager=name in eager, configured=True)
            for name, query in sorted(self.configured.items())
        ]
        for row in rows:
            if row.name in self.configured:
                continue
            who = names.get(row.updated_by) if row.updated_by else None
            presets.append(Preset(row.name, row.query, row.eager, False, row.updated_by, who, row.updated_at))
        return presets

    async def get(self, name: str) -> Preset:
        for preset in await self.describe():
            if preset.name == name:
                return preset
        raise NotFound(f"No preset is called {name!r}.", field="name")

    def _checked(self, name: str, query: str) -> str:
        if not PRESET_NAME.fullmatch(name):
            raise InvalidInput("A preset's name is 1-32 of a-z, 0-9, - and _.", field="name")
        if name in self.configured:
            raise Conflict(f"Preset {name!r} comes from the configuration and cannot be changed here.", field="name")
        query = query.strip().lstrip("?")
        self.check(query)
        return query

    async def create(self, name: str, query: str, *, eager: bool, user_id: str | None) -> Preset:
        query = self._checked(name, query)
        async with self.db.writer() as session:
            if await session.get(TransformPreset, name) is not None:
                raise Conflict(f"A preset is already called {name!r}.", field="name")
            session.add(TransformPreset(name=name, query=query, eager=eager, updated_by=user_id, updated_at=utcnow()))
        await self.refresh()
        log.info("preset %s created by %s: %s", name, user_id or "the CLI", query)
        return await self.get(name)

    async def update(self, name: str, *, query: str | None, eager: bool | None, user_id: str | None) -> Preset:
        current = await self.get(name)
        if current.configured:
            raise Conflict(f"Preset {name!r} comes from the configuration and cannot be changed here.", field="name")
        values: dict[str, object] = {"updated_by": user_id, "updated_at": utcnow()}
        if query is not None:
            values["query"] = self._checked(name, query)
        if eager is not None:
            values["eager"] = eager
        async with self.db.writer() as session:
            await session.execute(update(TransformPreset).where(TransformPreset.name == name).values(**values))
        await self.refresh()
        log.info("preset %s changed by %s", name, user_id or "the CLI")
        return await self.get(name)

    async def delete(self, name: str, *, user_id: str | None) -> None:
        current = await self.get(name)
        if current.configured:
            raise Conflict(f"Preset {name!r} comes from the configuration and cannot be deleted here.", field="name")
        async with self.db.writer() as session:
            await session.execute(delete(TransformPreset).where(TransformPreset.name == name))
        await self.refresh()
        log.info("preset %s deleted by %s", name, user_id or "the CLI")
