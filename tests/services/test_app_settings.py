"""`services.app_settings`: configured defaults, overrides and resets with who and when, validation, and the cache
(a change is seen at once by the process that made it, by another process once its cache time has passed)."""

from __future__ import annotations

from typing import Any

import pytest

from pinhole.db.models import AppSetting
from pinhole.dialects.v2.admin_schemas import RuntimeSettingsUpdate
from pinhole.errors import InvalidInput, NotFound
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import app_settings
from pinhole.services.app_settings import GUEST_UPLOADS, REGISTRY, SIGNUP, AppSettings
from tests.api.accounthelpers import make_account
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio


def other_process(runtime: Runtime, clock: ManualClock, ttl: float = 30.0) -> AppSettings:
    """Another server process's view: its own cache over the same database."""
    return AppSettings(db=runtime.db, settings=runtime.settings, ttl=ttl, clock=clock)


async def test_defaults_are_the_configured_values(runtime: Runtime) -> None:
    assert (await runtime.app_settings.guest_uploads(), await runtime.app_settings.signup()) == (False, False)
    states = await runtime.app_settings.describe()
    assert [state.setting.key for state in states] == ["guest_uploads", "signup"]
    assert all(not state.overridden and state.updated_at is None for state in states)


@pytest.mark.parametrize("settings_overrides", [{"accounts": {"guest_uploads": True}, "web": {"signup": True}}])
async def test_defaults_follow_the_configuration(runtime: Runtime) -> None:
    assert (await runtime.app_settings.guest_uploads(), await runtime.app_settings.signup()) == (True, True)
    assert {state.setting.key: state.configured for state in await runtime.app_settings.describe()} == {
        "guest_uploads": True,
        "signup": True,
    }


async def test_override_then_reset(runtime: Runtime) -> None:
    admin = await make_account(runtime, "root", role=Role.ADMIN)
    await runtime.app_settings.set("guest_uploads", True, user_id=admin.id)
    assert await runtime.app_settings.guest_uploads() is True
    assert await runtime.app_settings.signup() is False  # only the one changed
    state = next(s for s in await runtime.app_settings.describe() if s.setting is GUEST_UPLOADS)
    assert (state.value, state.configured, state.overridden) == (True, False, True)
    assert (state.updated_by, state.updated_by_name) == (admin.id, "root")
    assert state.updated_at is not None

    await runtime.app_settings.set("guest_uploads", False, user_id=None)  # a second change replaces the row
    state = next(s for s in await runtime.app_settings.describe() if s.setting is GUEST_UPLOADS)
    assert (state.value, state.overridden, state.updated_by, state.updated_by_name) == (False, True, None, None)

    await runtime.app_settings.reset("guest_uploads", user_id=admin.id)
    assert await runtime.app_settings.guest_uploads() is False
    async with runtime.db.reader() as session:
        assert await session.get(AppSetting, "guest_uploads") is None
    await runtime.app_settings.reset("guest_uploads", user_id=admin.id)  # resetting twice is harmless


@pytest.mark.parametrize("settings_overrides", [{"web": {"signup": True}}])
async def test_an_override_may_turn_off_what_the_configuration_turns_on(runtime: Runtime) -> None:
    await runtime.app_settings.set("signup", False, user_id=None)
    assert await runtime.app_settings.signup() is False
    await runtime.app_settings.reset("signup", user_id=None)
    assert await runtime.app_settings.signup() is True


@pytest.mark.parametrize("value", ["true", 1, 0, None, [], {"on": True}])
async def test_values_must_have_the_settings_type(runtime: Runtime, value: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        await runtime.app_settings.set("signup", value, user_id=None)
    assert raised.value.field == "signup"
    assert await runtime.app_settings.signup() is False


async def test_unknown_keys_are_refused(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await runtime.app_settings.set("max_file_bytes", True, user_id=None)
    with pytest.raises(NotFound):
        await runtime.app_settings.reset("nope", user_id=None)


@pytest.mark.parametrize(
    ("raw", "expected"), [("on", True), ("ON", True), ("true", True), ("1", True), ("off", False), ("0", False)]
)
def test_form_values(raw: str, expected: bool) -> None:
    assert app_settings.parse_form_value(SIGNUP, raw) is expected


@pytest.mark.parametrize("raw", ["", "yes please", "2"])
def test_bad_form_values(raw: str) -> None:
    with pytest.raises(InvalidInput):
        app_settings.parse_form_value(SIGNUP, raw)


async def test_a_change_is_seen_at_once_in_this_process_despite_the_cache(runtime: Runtime) -> None:
    clock = ManualClock()
    here = other_process(runtime, clock, ttl=3600)
    assert await here.signup() is False  # cached now
    await here.set("signup", True, user_id=None)
    assert await here.signup() is True  # the clock has not moved: the change dropped the cache
    await here.reset("signup", user_id=None)
    assert await here.signup() is False


async def test_other_processes_see_a_change_when_their_cache_time_is_up(runtime: Runtime) -> None:
    clock = ManualClock()
    there = other_process(runtime, clock, ttl=30)
    assert await there.guest_uploads() is False  # read and cached
    await runtime.app_settings.set("guest_uploads", True, user_id=None)  # changed through another process
    clock.now += 29
    assert await there.guest_uploads() is False  # still its cached copy
    clock.now += 1
    assert await there.guest_uploads() is True


async def test_no_cache_reads_every_time(runtime: Runtime) -> None:
    there = other_process(runtime, ManualClock(), ttl=0)
    assert await there.signup() is False
    await runtime.app_settings.set("signup", True, user_id=None)
    assert await there.signup() is True


async def test_stored_values_of_the_wrong_type_and_unknown_keys_are_ignored(runtime: Runtime) -> None:
    async with runtime.db.writer() as session:
        session.add(AppSetting(key="signup", value='"yes"'))
        session.add(AppSetting(key="guest_uploads", value="not json"))
        session.add(AppSetting(key="from_a_newer_version", value="42"))
    runtime.app_settings.invalidate()
    assert (await runtime.app_settings.signup(), await runtime.app_settings.guest_uploads()) == (False, False)
    assert [state.overridden for state in await runtime.app_settings.describe()] == [False, False]


def test_registry_keys_are_api_fields() -> None:
    """Every run-time setting can be changed through `PATCH /v2/admin/settings`."""
    assert set(RuntimeSettingsUpdate.model_fields) == set(REGISTRY)
