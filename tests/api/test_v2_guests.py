"""Guest uploads: off by default; when on, public ownerless images in the accounts tenant that only admins change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.db.models import ACCOUNTS_CLIENT_ID, Image
from pinhole.runtime import Runtime
from pinhole.security.policy import Action, may
from pinhole.security.principal import ANONYMOUS, GUEST, Role
from tests.api.accounthelpers import make_account, personal_key_headers
from tests.conftest import ApiClient
from tests.support.images import assert_image, make_jpeg

pytestmark = pytest.mark.anyio

GUESTS_ON = pytest.mark.parametrize("settings_overrides", [{"accounts": {"guest_uploads": True}}], ids=["guests"])


async def _guest_upload(http: httpx.AsyncClient, expect: int = 201, **fields: str) -> dict[str, Any]:
    files = {"file": ("guest.jpg", make_jpeg(60, 40), "image/jpeg")}
    response = await http.post("/v2/images", files=files, data=fields)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_guest_uploads_are_off_by_default(http: httpx.AsyncClient) -> None:
    body = await _guest_upload(http, expect=401)
    assert body["error"]["code"] == "missing_api_key"


@GUESTS_ON
async def test_guest_upload_is_public_and_owned_by_nobody(http: httpx.AsyncClient, runtime: Runtime) -> None:
    image = await _guest_upload(http, description="from a guest", tags="a,b")
    assert image["isPrivate"] is False
    assert image["externalUserId"] is None
    assert image["tags"] == ["a", "b"]
    served = await http.get(f"/v2/images/{image['id']}")
    assert served.status_code == 200
    assert_image(served.content, format="jpeg", width=60, height=40)
    async with runtime.db.reader() as session:
        row = await session.get(Image, image["id"])
    assert row is not None
    assert (row.client_id, row.owner_id) == (ACCOUNTS_CLIENT_ID, None)


@GUESTS_ON
async def test_guests_cannot_upload_private_images(http: httpx.AsyncClient) -> None:
    body = await _guest_upload(http, expect=400, isPrivate="true")
    assert body["error"]["field"] == "isPrivate"


@GUESTS_ON
async def test_guests_may_only_upload(http: httpx.AsyncClient) -> None:
    image = await _guest_upload(http)
    assert (await http.get("/v2/images")).status_code == 401
    assert (await http.get(f"/v2/images/{image['id']}", params={"info": "true"})).status_code == 404
    assert (await http.patch(f"/v2/images/{image['id']}", json={"description": "x"})).status_code == 401
    assert (await http.delete(f"/v2/images/{image['id']}")).status_code == 401


@GUESTS_ON
async def test_wrong_credentials_are_still_refused(http: httpx.AsyncClient) -> None:
    files = {"file": ("a.jpg", make_jpeg(8, 8), "image/jpeg")}
    for headers in ({"X-API-Key": "phk_wrong"}, {"Authorization": "Bearer sk_" + "0" * 64}, {"X-Upload-Key": "uk_x"}):
        assert (await http.post("/v2/images", headers=headers, files=files)).status_code == 401


@GUESTS_ON
async def test_signed_in_uploads_are_unchanged_when_guests_are_on(http: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    files = {"file": ("a.jpg", make_jpeg(8, 8), "image/jpeg")}
    response = await http.post("/v2/images", headers=account.headers(), files=files, data={"isPrivate": "true"})
    assert response.status_code == 201, response.text
    assert response.json()["externalUserId"] == account.id
    assert response.json()["isPrivate"] is True


@GUESTS_ON
async def test_only_admins_change_guest_images(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    image = await _guest_upload(http)
    url = f"/v2/images/{image['id']}"
    user = await make_account(runtime)
    admin = await make_account(runtime, role=Role.ADMIN)
    # Accounts see the public image in their tenant, so they are told no (403); another tenant does not see it (404).
    for headers, status in (
        (user.headers(), 403),
        (await personal_key_headers(runtime, user), 403),
        (tenant.headers(), 404),
        (tenant.headers("x"), 404),
    ):
        assert (await http.patch(url, json={"isPrivate": True}, headers=headers)).status_code == status
        assert (await http.delete(url, headers=headers)).status_code == status
    changed = await http.patch(url, json={"description": "moderated"}, headers=admin.headers())
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "moderated"
    assert (await http.delete(url, headers=await personal_key_headers(runtime, admin))).status_code == 204


def test_the_policy_lets_guests_upload_and_nothing_else() -> None:
    assert may(GUEST, Action.CREATE)
    assert not may(ANONYMOUS, Action.CREATE)
    for action in (Action.LIST, Action.MANAGE, Action.ADMINISTER, Action.TRANSFORM):
        assert not may(GUEST, action)
