"""Client API keys: rotation (the old key stops at once), revocation (no key until rotated), the active flag."""

from __future__ import annotations

import httpx
import pytest

from pinhole.db.models import ACCOUNTS_CLIENT_ID
from pinhole.errors import InvalidInput, NotFound
from pinhole.runtime import Runtime
from pinhole.services import clients
from tests.api.accounthelpers import make_account
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio


async def _status(http: httpx.AsyncClient, key: str) -> int:
    return (await http.get("/v2/images", headers={"X-API-Key": key})).status_code


async def test_rotation_replaces_the_key_at_once(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    assert await _status(http, tenant.key) == 200
    new = await clients.rotate_client_key(db=runtime.db, client_id=tenant.id)
    assert new.api_key.startswith(clients.API_KEY_PREFIX)
    assert new.api_key != tenant.key
    assert new.client.key_rotated_at is not None
    assert new.client.api_key_prefix == new.api_key[:12]
    assert await _status(http, tenant.key) == 401
    assert await _status(http, new.api_key) == 200
    [listed] = [c for c in await clients.list_clients(db=runtime.db) if c.id == tenant.id]
    assert listed.key_rotated_at == new.client.key_rotated_at
    assert clients.has_usable_key(listed)


async def test_revoked_key_is_refused_until_rotated(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    revoked = await clients.revoke_client_key(db=runtime.db, client_id=tenant.id)
    assert not clients.has_usable_key(revoked)
    assert await _status(http, tenant.key) == 401
    assert await _status(http, other_tenant.key) == 200
    new = await clients.rotate_client_key(db=runtime.db, client_id=tenant.id)
    assert await _status(http, new.api_key) == 200
    assert await _status(http, tenant.key) == 401


async def test_inactive_clients_keys_are_refused(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    client = await clients.set_client_active(db=runtime.db, client_id=tenant.id, active=False)
    assert client.active is False
    response = await http.get("/v2/images", headers={"X-API-Key": tenant.key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    await clients.set_client_active(db=runtime.db, client_id=tenant.id, active=True)
    assert await _status(http, tenant.key) == 200


async def test_the_accounts_tenant_never_gets_a_key(runtime: Runtime) -> None:
    await make_account(runtime)  # creates the accounts tenant
    for change in (
        clients.rotate_client_key(db=runtime.db, client_id=ACCOUNTS_CLIENT_ID),
        clients.revoke_client_key(db=runtime.db, client_id=ACCOUNTS_CLIENT_ID),
        clients.set_client_active(db=runtime.db, client_id=ACCOUNTS_CLIENT_ID, active=False),
    ):
        with pytest.raises(InvalidInput):
            await change
    [accounts] = [c for c in await clients.list_clients(db=runtime.db) if c.id == ACCOUNTS_CLIENT_ID]
    assert not clients.has_usable_key(accounts)
    assert accounts.active


async def test_unknown_clients_and_bad_names(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await clients.rotate_client_key(db=runtime.db, client_id="nope")
    for name in ("", " ", "x" * 201):
        with pytest.raises(InvalidInput):
            await clients.create_client(db=runtime.db, name=name)
