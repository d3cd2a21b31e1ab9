"""Run-time settings: the few settings an admin may change while the service runs (guest uploads, sign-up).

Each has a configured value (`Settings`, i.e. defaults, file, environment); a row in `app_settings` overrides it
until the row is deleted ("reset"). Every reader goes through `AppSettings`, built once by the composition root.

Reads come from a per-process snapshot of the whole (tiny) table, re-read when it is older than
`server.settings_cache_seconds`. A change made through this process drops the snapshot, so this process sees it
at once; other processes (pinhole runs as several instances) see it within `settings_cache_seconds`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from pinhole.db.engine import Database
from pinhole.db.models import AppSetting, User, utcnow
from pinhole.errors import InvalidInput, NotFound
from pinhole.settings import Settings

log = logging.getLogger(__name__)

SettingValue = bool


@dataclass(frozen=True)
class RuntimeSetting:
    """One setting an admin may change: its key, its type and where its configured value comes from."""

    key: str
    label: str
    description: str
    configured: Callable[[Settings], SettingValue]
    type: type[SettingValue] = bool


GUEST_UPLOADS = RuntimeSetting(
    key="guest_uploads",
    label="Guest uploads",
    description="Let anyone upload without an account (public images owned by nobody): the web upload page, "
    "POST /v2/images without credentials and slink's /api/guest/upload.",
    configured=lambda settings: settings.accounts.guest_uploads,
)
SIGNUP = RuntimeSetting(
    key="signup",
    label="Sign-up",
    description="Let anyone create an account on the web app's sign-up page.",
    configured=lambda settings: settings.web.signup,
)
REGISTRY: dict[str, RuntimeSetting] = {item.key: item for item in (GUEST_UPLOADS, SIGNUP)}


@dataclass(frozen=True)
class Override:
    value: SettingValue
    updated_by: str | None
    updated_at: datetime


@dataclass(frozen=True)
class SettingState:
    """What an admin sees of one setting: its value now, the configured one, and who overrode it when."""

    setting: RuntimeSetting
    value: SettingValue
    configured: SettingValue
    overridden: bool
    updated_by: str | None = None
    updated_by_name: str | None = None
    updated_at: datetime | None = None


def definition(key: str) -> RuntimeSetting:
    found = REGISTRY.get(key)
    if found is None:
        raise NotFound(f"No run-time setting is called {key!r}.", field="key")
    return found


def validate(setting: RuntimeSetting, value: object) -> SettingValue:
    """The value if it has the setting's type exactly (no 1 for true, no "yes")."""
    if not isinstance(value, setting.type):
        raise InvalidInput(f"{setting.label}: expected {setting.type.__name__}, got {value!r}.", field=setting.key)
    return value


def parse_form_value(setting: RuntimeSetting, raw: str) -> SettingValue:
    """A value typed in a form: `on`/`off` (also `true`/`false`, `1`/`0`) for switches."""
    words = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}
    value = words.get(raw.strip().lower())
    if value is None:
        raise InvalidInput(f"{setting.label}: choose on or off.", field=setting.key)
    return value


class AppSettings:
    """Reads and changes the run-time settings, with a short per-process cache."""

    def __init__(
        self, *, db: Database, settings: Settings, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.settings = settings
        self.ttl = ttl
        self._clock = clock
        self._snapshot: dict[str, Override] | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        """Forget the snapshot: the next read asks the database."""
        self._snapshot = None

    async def _overrides(self) -> dict[str, Override]:
        now = self._clock()
        if self._snapshot is not None and now - self._loaded_at < self.ttl:
            return self._snapshot
        async with self.db.reader() as session:
            rows = (await session.scalars(select(AppSetting))).all()
        snapshot = {}
        for row in rows:
            parsed = self._parse(row)
            if parsed is not None:
                snapshot[row.key] = Override(parsed, row.updated_by, row.updated_at)
        self._snapshot, self._loaded_at = snapshot, now
        return snapshot

    @staticmethod
    def _parse(row: AppSetting) -> SettingValue | None:
        """A stored value, or None (ignored: the configured value applies) for unknown keys and bad values."""
        setting = REGISTRY.get(row.key)
        if setting is None:
            return None  # left by another version of pinhole
        try:
            return validate(setting, json.loads(row.value))
        except (ValueError, InvalidInput):
            log.warning("ignoring the stored value of run-time setting %r: not a %s", row.key, setting.type.__name__)
            return None

    async def get(self, setting: RuntimeSetting) -> SettingValue:
        found = (await self._overrides()).get(setting.key)
        return found.value if found is not None else setting.configured(self.settings)

    async def guest_uploads(self) -> bool:
        return await self.get(GUEST_UPLOADS)

    async def signup(self) -> bool:
        return await self.get(SIGNUP)

    async def describe(self) -> list[SettingState]:
        """Every run-time setting (registry order), read from the database, not the cache."""
        self.invalidate()
        overrides = await self._overrides()
        names = await self._usernames({item.updated_by for item in overrides.values() if item.updated_by})
        states = []
        for setting in REGISTRY.values():
            configured = setting.configured(self.settings)
            found = overrides.get(setting.key)
            if found is None:
                states.append(SettingState(setting, configured, configured, overridden=False))
                continue
            name = names.get(found.updated_by) if found.updated_by else None
            states.append(
                SettingState(setting, found.value, configured, True, found.updated_by, name, found.updated_at)
            )
        return states

    async def _usernames(self, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        async with self.db.reader() as session:
            rows = await session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
            return {row.id: row.username for row in rows}

    async def set(self, key: str, value: object, *, user_id: str | None) -> None:
        """Override a setting (validated against its type), recording who did it."""
        setting = definition(key)
        checked = validate(setting, value)
        stmt = self.db.insert(AppSetting).values(
            key=key, value=json.dumps(checked), updated_by=user_id, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_by": user_id, "updated_at": stmt.excluded.updated_at},
        )
        async with self.db.writer() as session:
            await session.execute(stmt)
        self.invalidate()
        log.info("run-time setting %s set to %s by %s", key, json.dumps(checked), user_id or "the CLI")

    async def reset(self, key: str, *, user_id: str | None) -> None:
        """Back to the configured value: the override row goes."""
        definition(key)
        async with self.db.writer() as session:
            await session.execute(delete(AppSetting).where(AppSetting.key == key))
        self.invalidate()
        log.info("run-time setting %s reset to its configured value by %s", key, user_id or "the CLI")
