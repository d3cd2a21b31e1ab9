"""The admin API's accounts (v2): the list with storage, details with what an account holds, suspend (sessions and
keys refused, images kept online), quotas, delete with everything it uploaded, one-time reset links; bad input 4xx."""

from __future__ import annotations

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import users as user_service
from tests.api.accounthelpers import Account, make_account
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, "root", role=Role.ADMIN)


async def _upload(http: httpx.AsyncClient, account: Account, width: int) -> dict[str, object]:
    files = {"file": ("a.png", img.make_png(width, 20), "image/png")}
    response = await http.post("/v2/images", headers=account.headers(), files=files)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_list_details_suspend_quota_and_delete(http: httpx.AsyncClient, runtime: Runtime, admin: Account) -> None:
    ann = await make_account(runtime, "ann")
    uploaded = [await _upload(http, ann, 20 + n) for n in range(2)]
    size = sum(int(str(image["size"])) for image in uploaded)
    assert (await http.get("/v2/admin/users", headers=ann.headers())).status_code == 403
    listed = (await http.get("/v2/admin/users", headers=admin.headers())).json()
    row = next(user for user in listed["data"] if user["id"] == ann.id)
    assert (row["images"], row["bytes"], row["status"]) == (2, size, "active")

    detail = (await http.get(f"/v2/admin/users/{ann.id}", headers=admin.headers())).json()
    assert detail["footprint"] == {
        "images": 2,
        "bytes": size,
        "publicImages": 2,
        "publicBytes": size,
        "trashed": 0,
        "albums": 0,
    }
    body = {"status": "suspended", "quotaBytes": 5 * 1024**3}
    changed = await http.patch(f"/v2/admin/users/{ann.id}", headers=admin.headers(), json=body)
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["quotaBytes"], changed.json()["quotaImages"]) == (
        "suspended",
        5 * 1024**3,
        None,
    )
    assert (await http.get("/v2/images", headers=ann.headers())).status_code == 401  # its session is refused
    served = await http.get(f"/v2/images/{uploaded[0]['id']}")
    assert served.status_code == 200
    assert "x-pinhole-fallback" not in served.headers  # kept online

    for bad in ({"status": "gone"}, {"quotaBytes": -1}, {"role": "god"}, {"nope": 1}):
        refused = await http.patch(f"/v2/admin/users/{ann.id}", headers=admin.headers(), json=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["code"]
    mine = await http.patch(f"/v2/admin/users/{admin.id}", headers=admin.headers(), json={"status": "suspended"})
    assert mine.status_code == 400
    assert (await http.delete(f"/v2/admin/users/{admin.id}", headers=admin.headers())).status_code == 400
    assert (await http.get("/v2/admin/users/nobody", headers=admin.headers())).status_code == 404

    gone = await http.delete(f"/v2/admin/users/{ann.id}", headers=admin.headers())
    assert gone.status_code == 200
    assert (gone.json()["images"], gone.json()["bytes"]) == (2, size)
    assert await user_service.get_user(runtime.db, ann.id) is None
    assert (await http.get(f"/v2/images/{uploaded[0]['id']}")).headers.get("x-pinhole-fallback") == "1"
    assert (await http.delete(f"/v2/admin/users/{ann.id}", headers=admin.headers())).status_code == 404


async def test_reset_link_sets_a_new_password_once(http: httpx.AsyncClient, runtime: Runtime, admin: Account) -> None:
    ann = await make_account(runtime, "ann")
    made = await http.post(f"/v2/admin/users/{ann.id}/reset-links", headers=admin.headers())
    assert made.status_code == 201
    url = made.json()["url"]
    assert url.startswith("http://testserver/reset/pr_")
    path = url.removeprefix("http://testserver")
    new = {"password": "a brand new passphrase", "password2": "a brand new passphrase"}
    assert (await http.post(path, data=new)).status_code == 303
    assert (await http.post(path, data=new)).status_code == 404
    login = await http.post("/v2/auth/login", json={"login": "ann", "password": new["password"]})
    assert login.status_code == 200
    missing = await http.post("/v2/admin/users/nobody/reset-links", headers=admin.headers())
    assert missing.status_code == 404
