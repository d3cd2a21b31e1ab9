"""The admin pages over httpx: only admins (403 for other accounts, sign-in when signed out), the dashboard and its
chart, clients (create and rotate with the key shown once, quotas, active flag), users (create, status, role),
run-time settings (change, reset, who and when), CSRF refusals and escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from markupsafe import escape

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import clients as client_service
from pinhole.services import users as user_service
from pinhole.web.admin import CHART_DAYS, CHART_HEIGHT, chart_bars
from tests.api.accounthelpers import PASSWORD, make_account
from tests.web.conftest import ClientFactory
from tests.web.test_image_pages import HOSTILE, hidden_value
from tests.web.webhelpers import Browser, browser

pytestmark = pytest.mark.anyio

PAGES = ("/admin", "/admin/clients", "/admin/users", "/admin/settings")


@pytest.fixture
async def admin(runtime: Runtime, new_client: ClientFactory) -> Browser:
    await make_account(runtime, "root", role=Role.ADMIN)
    return await browser(await new_client(), "root", PASSWORD)


async def test_only_admins(signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory) -> None:
    for path in PAGES:
        assert (await http.get(path)).status_code == 403, path  # alice is a plain account
    assert 'href="/admin"' not in (await http.get("/images")).text
    posts = {
        "/admin/clients": {"name": "x"},
        "/admin/users": {"email": "x@example.com", "password": "long enough passphrase", "role": "admin"},
        "/admin/users/someone/role": {"role": "admin"},
        "/admin/settings/signup": {"value": "on"},
        "/admin/settings/signup/reset": {},
    }
    for path, form in posts.items():
        assert (await signed_in.post_form(path, form)).status_code == 403, path
    assert 'href="/admin/settings"' not in (await http.get("/account")).text
    stranger = await new_client()
    for path in PAGES:
        response = await stranger.get(path)
        assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")


async def test_dashboard_counts_and_chart(admin: Browser, signed_in: Browser) -> None:
    await signed_in.upload()
    await signed_in.upload()
    page = await admin.http.get("/admin")
    assert page.status_code == 200
    assert 'href="/admin"' in page.text  # the nav link, for admins
    assert 'id="stat-images">2<' in page.text
    assert 'id="stat-users">2<' in page.text
    assert page.text.count('<rect class="bar"') == CHART_DAYS
    today = datetime.now(UTC).date().isoformat()  # the chart's last day (UTC)
    assert f"<title>{today}: 2</title>" in page.text
    assert "2 uploads; the busiest day had 2." in page.text


def test_chart_bars_scale_to_the_busiest_day() -> None:
    days = [(date(2026, 1, 1), 0), (date(2026, 1, 2), 4), (date(2026, 1, 3), 2)]
    bars = chart_bars(days, width=300, height=100)
    assert [(bar.height, bar.y) for bar in bars] == [(0, 100), (100, 0), (50, 50)]
    assert [bar.x for bar in bars] == [1.0, 101.0, 201.0]
    assert {bar.width for bar in bars} == {98.0}
    assert [bar.height for bar in chart_bars([(date(2026, 1, 1), 0)], height=CHART_HEIGHT)] == [0]
    assert chart_bars([]) == []


async def test_clients_create_rotate_quotas_and_active(admin: Browser, runtime: Runtime) -> None:
    created = await admin.post_form("/admin/clients", {"name": "Gallery"})
    assert created.status_code == 201
    assert "shown only once" in created.text
    key = hidden_value(created.text, "new-key")
    client = await client_service.authenticate_client(db=runtime.db, api_key=key)
    assert client is not None
    assert client.name == "Gallery"
    assert key not in (await admin.http.get("/admin/clients")).text  # shown once

    rotated = await admin.post_form(f"/admin/clients/{client.id}/rotate")
    assert rotated.status_code == 201
    new_key = hidden_value(rotated.text, "new-key")
    assert new_key != key
    assert await client_service.authenticate_client(db=runtime.db, api_key=key) is None
    assert await client_service.authenticate_client(db=runtime.db, api_key=new_key) is not None

    form = {"name": "Gallery 2", "quota_bytes": "1000000", "quota_images": "0", "max_file_bytes": "1.5 MB"}
    saved = await admin.post_form(f"/admin/clients/{client.id}", form)
    assert (saved.status_code, saved.headers["location"]) == (303, "/admin/clients")
    stored = await client_service.get_client(db=runtime.db, client_id=client.id)
    assert (stored.name, stored.quota_bytes, stored.quota_images, stored.max_file_bytes) == (
        "Gallery 2",
        1000000,
        0,
        1536 * 1024,  # quotas are typed as sizes: "1.5 MB"
    )
    page = (await admin.http.get("/admin/clients")).text
    assert "Saved." in page
    assert f'id="quota_bytes-{client.id}" name="quota_bytes" placeholder="e.g. 5 GB" value="1000000"' in page
    assert 'name="max_file_bytes" placeholder="e.g. 5 GB" value="1536 KB"' in page
    for bad, message in (
        ({"name": "Gallery 2", "quota_bytes": "-1"}, "a size such as 5 GB"),
        ({"name": "Gallery 2", "quota_bytes": "5 parsecs"}, "a size such as 5 GB"),
        ({"name": "Gallery 2", "quota_images": "lots"}, "a whole number"),
    ):
        response = await admin.post_form(f"/admin/clients/{client.id}", bad)
        assert response.status_code == 400
        assert message in response.text
    assert (await admin.post_form(f"/admin/clients/{client.id}", {"name": " "})).status_code == 400
    assert (await client_service.get_client(db=runtime.db, client_id=client.id)).quota_bytes == 1000000

    off = await admin.post_form(f"/admin/clients/{client.id}/active", {"active": "0"})
    assert off.headers["location"] == "/admin/clients"
    assert not (await client_service.get_client(db=runtime.db, client_id=client.id)).active
    on = await admin.post_form(f"/admin/clients/{client.id}/active", {"active": "1"})
    assert on.headers["location"] == "/admin/clients"
    assert (await client_service.get_client(db=runtime.db, client_id=client.id)).active

    assert (await admin.post_form("/admin/clients/nope/rotate")).status_code == 404
    assert (await admin.post_form("/admin/clients/accounts/rotate")).status_code == 400  # the accounts tenant
    assert (await admin.post_form("/admin/clients", {"name": ""})).status_code == 400


async def test_users_create_status_and_role(admin: Browser, runtime: Runtime) -> None:
    form = {"email": "Carol@Example.com", "username": "carol", "password": "a long enough passphrase", "role": "user"}
    created = await admin.post_form("/admin/users", form)
    assert (created.status_code, created.headers["location"]) == (303, "/admin/users")
    carol = await user_service.find_user(runtime.db, "carol")
    assert carol is not None
    assert (carol.email, carol.role, carol.status) == ("carol@example.com", "user", "active")
    page = (await admin.http.get("/admin/users")).text
    assert "carol@example.com" in page
    again = await admin.post_form("/admin/users", form)
    assert again.status_code == 409
    weak = await admin.post_form("/admin/users", form | {"email": "d@example.com", "username": "dave", "password": "x"})
    assert weak.status_code == 400
    assert (await admin.post_form("/admin/users", form | {"role": "god"})).status_code == 400
    assert await user_service.find_user(runtime.db, "dave") is None

    asked = await admin.post_form(f"/admin/users/{carol.id}/status", {"status": "suspended"})
    assert asked.headers["location"] == f"/admin/users/{carol.id}/suspend"  # the confirmation first
    confirmed = {"status": "suspended", "confirmed": "1"}
    suspended = await admin.post_form(f"/admin/users/{carol.id}/status", confirmed)
    assert suspended.headers["location"] == "/admin/users"
    promoted = await admin.post_form(f"/admin/users/{carol.id}/role", {"role": "admin"})
    assert promoted.headers["location"] == "/admin/users"
    carol = await user_service.find_user(runtime.db, "carol")
    assert carol is not None
    assert (carol.status, carol.role) == ("suspended", "admin")
    assert (await admin.post_form(f"/admin/users/{carol.id}/status", {"status": "gone"})).status_code == 400
    assert (await admin.post_form(f"/admin/users/{carol.id}/role", {"role": ""})).status_code == 400
    assert (await admin.post_form("/admin/users/nope/role", {"role": "user"})).status_code == 404

    root = await user_service.find_user(runtime.db, "root")
    assert root is not None
    mine = await admin.post_form(f"/admin/users/{root.id}/role", {"role": "user"})
    assert mine.status_code == 400
    assert (await user_service.find_user(runtime.db, "root")).role == "admin"  # type: ignore[union-attr]


async def test_admin_forms_need_the_csrf_token(admin: Browser, runtime: Runtime) -> None:
    gallery = await client_service.create_client(db=runtime.db, name="Gallery")
    bob = await make_account(runtime, "bob")
    posts = {
        "/admin/clients": {"name": "sneaky"},
        f"/admin/clients/{gallery.client.id}": {"name": "changed"},
        f"/admin/clients/{gallery.client.id}/rotate": {},
        f"/admin/clients/{gallery.client.id}/active": {"active": "0"},
        "/admin/users": {"email": "e@example.com", "password": "a long enough passphrase", "role": "admin"},
        f"/admin/users/{bob.id}/status": {"status": "suspended"},
        f"/admin/users/{bob.id}/role": {"role": "admin"},
        "/admin/settings/guest_uploads": {"value": "on"},
        "/admin/settings/guest_uploads/reset": {},
    }
    await runtime.app_settings.set("guest_uploads", False, user_id=None)  # so that a reset would show
    for path, data in posts.items():
        for token in (None, "forged"):
            response = await admin.http.post(path, data=data | ({"csrf": token} if token else {}))
            assert response.status_code == 403, path
            assert "csrf_failed" in response.text
    stored = await client_service.get_client(db=runtime.db, client_id=gallery.client.id)
    assert (stored.name, stored.active) == ("Gallery", True)
    assert await client_service.authenticate_client(db=runtime.db, api_key=gallery.api_key) is not None
    user = await user_service.find_user(runtime.db, "bob")
    assert user is not None
    assert (user.status, user.role) == ("active", "user")
    assert await user_service.find_user(runtime.db, "e@example.com") is None
    guests = next(state for state in await runtime.app_settings.describe() if state.setting.key == "guest_uploads")
    assert (guests.value, guests.overridden) == (False, True)  # as set before the forged posts


async def test_admin_pages_escape_names(admin: Browser, runtime: Runtime) -> None:
    await client_service.create_client(db=runtime.db, name=HOSTILE)
    await user_service.create_user(
        runtime.accounts, email="x@example.com", password=PASSWORD, username="xss", display_name=HOSTILE
    )
    for path in PAGES:
        page = await admin.http.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
    assert str(escape(HOSTILE)) in (await admin.http.get("/admin/clients")).text


async def test_settings_page_changes_and_resets(admin: Browser, runtime: Runtime) -> None:
    page = await admin.http.get("/admin/settings")
    assert page.status_code == 200
    assert '<a href="/admin/settings" aria-current="page">Settings</a>' in page.text
    assert 'id="setting-guest_uploads-value">off<' in page.text
    assert 'id="setting-signup-value">off<' in page.text
    assert page.text.count("The configured value (not changed here).") == 2
    assert "within 5 seconds in the others" in page.text  # server.settings_cache_seconds
    assert 'id="signup-off" checked' in page.text
    assert 'id="signup-reset"' not in page.text  # nothing to reset yet

    changed = await admin.post_form("/admin/settings/signup", {"value": "on"})
    assert (changed.status_code, changed.headers["location"]) == (303, "/admin/settings")
    assert await runtime.app_settings.signup() is True
    page = await admin.http.get("/admin/settings")
    assert "The setting is changed." in page.text
    assert 'id="setting-signup-value">on<' in page.text
    assert 'id="signup-on" checked' in page.text
    assert "Changed by root on <time datetime=" in page.text
    assert "the configured value is off." in page.text
    assert 'id="signup-reset"' in page.text
    assert (await admin.http.get("/signup")).status_code == 303  # open now (admin is signed in: to /images)

    reset = await admin.post_form("/admin/settings/signup/reset")
    assert (reset.status_code, reset.headers["location"]) == (303, "/admin/settings")
    assert await runtime.app_settings.signup() is False
    page = await admin.http.get("/admin/settings")
    assert "back to its configured value" in page.text
    assert 'id="setting-signup-value">off<' in page.text


async def test_settings_page_refuses_bad_values_and_unknown_settings(admin: Browser, runtime: Runtime) -> None:
    bad = await admin.post_form("/admin/settings/guest_uploads", {"value": "maybe"})
    assert bad.status_code == 400
    assert "Guest uploads: choose on or off." in bad.text
    assert (await admin.post_form("/admin/settings/guest_uploads", {})).status_code == 400
    assert (await admin.post_form("/admin/settings/nope", {"value": "on"})).status_code == 404
    assert (await admin.post_form("/admin/settings/nope/reset")).status_code == 404
    assert not any(state.overridden for state in await runtime.app_settings.describe())
