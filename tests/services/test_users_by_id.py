"""`users.users_by_id`: the accounts among image owner ids, for showing owners in listings (the slink API)."""

from __future__ import annotations

import pytest

from pinhole.runtime import Runtime
from pinhole.services.users import users_by_id
from tests.api.accounthelpers import make_account

pytestmark = pytest.mark.anyio


async def test_finds_accounts_and_leaves_out_other_ids(runtime: Runtime) -> None:
    alice, bob = await make_account(runtime), await make_account(runtime)
    found = await users_by_id(runtime.db, {alice.id, bob.id, "external-user-42"})
    assert set(found) == {alice.id, bob.id}
    assert found[alice.id].username == alice.username
    assert found[bob.id].email == bob.email


async def test_no_ids_asks_nothing(runtime: Runtime) -> None:
    assert await users_by_id(runtime.db, set()) == {}
