"""The admin pages: a dashboard (storage, image and view counts, uploads per day), clients, user accounts and the
run-time settings (guest uploads, sign-up; `services.app_settings`).

Only admin accounts see them: every route asks the policy for `Action.ADMINISTER` (403 for other accounts, the
sign-in page when signed out), through the same services as `/v2/admin/...` and the `pinhole` CLI. A client's new
key is shown once, on the page the form answers with. An admin cannot change their own role or status here, so
the last admin cannot lock everyone out by a slip of the mouse (the CLI still can).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from pinhole.api.deps import DatabaseDep, RuntimeDep, public_base_url, settings_of
from pinhole.api.services import ImagesDep
from pinhole.db.engine import Database
from pinhole.errors import InvalidInput, NotFound, PinholeError
from pinhole.runtime import Runtime
from pinhole.security.policy import Action, require
from pinhole.security.principal import Role
from pinhole.services import app_settings, moderation, password_resets
from pinhole.services import clients as client_service
from pinhole.services import stats as stats_service
from pinhole.services import users as user_service
from pinhole.services.clients import QUOTA_FIELDS, ClientChanges
from pinhole.web.dashboard import dashboard_charts
from pinhole.web.rendering import WebRoute, filesize, notify, redirect, render
from pinhole.web.session import FormSession, RequiredSession, WebSession
from pinhole.web.sizes import parse_byte_size, show_byte_size

router = APIRouter(route_class=WebRoute)

CHART_DAYS = 30
CHART_WIDTH = 600
CHART_HEIGHT = 160
USERS_PAGE = 100
QUOTA_LABELS = {
    "quota_bytes": "Storage quota",
    "quota_images": "Image quota",
    "max_file_bytes": "Largest file",
    "user_quota_bytes": "Per-user storage",
    "user_quota_images": "Per-user images",
}
BYTE_FIELDS = frozenset({"quota_bytes", "max_file_bytes", "user_quota_bytes"})
NOTICES = {
    "saved": "Saved.",
    "active": "The client is active again.",
    "inactive": "The client is deactivated: its key is refused.",
    "status": "The account's status is changed.",
    "quota": "The account's quotas are changed.",
    "role": "The account's role is changed.",
    "setting": "The setting is changed. Other server processes apply it within their cache time.",
    "reset": "The setting is back to its configured value.",
}


def _admin(session: WebSession) -> None:
    require(session.principal, Action.ADMINISTER, hide=False)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


def chart_bars(days: list[tuple[date, int]], *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> list[Bar]:
    """One bar per day, scaled to the busiest day (the top of the chart), for an inline SVG drawn by the server."""
    if not days:
        return []
    top = max(count for _, count in days) or 1
    slot = width / len(days)
    gap = min(2.0, slot / 4)
    bars = []
    for n, (day, count) in enumerate(days):
        bar_height = round(height * count / top, 2)
        bars.append(
            Bar(
                x=round(n * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=bar_height,
                day=day,
                count=count,
            )
        )
    return bars


@router.get("/admin", name="admin")
async def dashboard(request: Request, db: DatabaseDep, runtime: RuntimeDep, session: RequiredSession) -> Response:
    _admin(session)
    figures = await stats_service.global_stats(db=db)
    days = await stats_service.uploads_per_day(db=db, days=CHART_DAYS)
    _, user_count = await user_service.list_users(db, limit=1)
    context = {
        "figures": figures,
        "user_count": user_count,
        "bars": chart_bars(days),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "chart_total": sum(count for _, count in days),
        "chart_top": max((count for _, count in days), default=0),
        "chart_days": CHART_DAYS,
    }
    context |= await dashboard_charts(runtime)  # storage, traffic, hit ratio, latency, busiest (web/dashboard.py)
    return render(request, "admin.html", context)


async def _clients_page(
    request: Request, db: Database, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    figures = await stats_service.global_stats(db=db)
    context = {
        "clients": figures.per_client,
        "quota_labels": QUOTA_LABELS,
        "byte_fields": BYTE_FIELDS,
        "show_bytes": show_byte_size,
        "has_key": client_service.has_usable_key,
        "new_key": None,
        "new_key_client": None,
        "error": None,
    }
    return render(request, "admin_clients.html", context | (extra or {}), status=status)


@router.get("/admin/clients", name="admin.clients")
async def clients_page(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    _admin(session)
    return await _clients_page(request, db)


@router.post("/admin/clients", name="admin.clients.create")
async def create_client(request: Request, db: DatabaseDep, session: FormSession) -> Response:
    _admin(session)
    form = await request.form()
    try:
        new = await client_service.create_client(db=db, name=str(form.get("name") or ""))
    except InvalidInput as exc:
        return await _clients_page(request, db, {"error": exc.message}, status=exc.status)
    extra = {"new_key": new.api_key, "new_key_client": new.client.name}
    return await _clients_page(request, db, extra, status=201)


@router.post("/admin/clients/{client_id}/rotate", name="admin.clients.rotate")
async def rotate_key(request: Request, db: DatabaseDep, session: FormSession, client_id: str) -> Response:
    _admin(session)
    new = await client_service.rotate_client_key(db=db, client_id=client_id)
    extra = {"new_key": new.api_key, "new_key_client": new.client.name}
    return await _clients_page(request, db, extra, status=201)


@router.post("/admin/clients/{client_id}/active", name="admin.clients.active")
async def set_active(request: Request, db: DatabaseDep, session: FormSession, client_id: str) -> Response:
    _admin(session)
    active = (await request.form()).get("active") == "1"
    await client_service.set_client_active(db=db, client_id=client_id, active=active)
    return notify(request, "/admin/clients", NOTICES["active" if active else "inactive"])


def _quota(form: FormData, name: str) -> int | None:
    """Empty: the server default; 0: unlimited; else a whole number."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    if name in BYTE_FIELDS:
        size = parse_byte_size(raw)
        if size is None:
            raise InvalidInput(
                f"{QUOTA_LABELS[name]}: a size such as 5 GB or 500 MB, 0 for unlimited, empty for the default.",
                field=name,
            )
        return size
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{QUOTA_LABELS[name]}: a whole number, 0 for unlimited, empty for the default.", field=name)
    return int(raw)


@router.post("/admin/clients/{client_id}", name="admin.clients.update")
async def update_client(request: Request, db: DatabaseDep, session: FormSession, client_id: str) -> Response:
    """The client's name and quotas (the form shows them all, so all are set)."""
    _admin(session)
    form = await request.form()
    try:
        values: dict[str, Any] = {name: _quota(form, name) for name in QUOTA_FIELDS}
        values["name"] = str(form.get("name") or "")
        await client_service.update_client(db=db, client_id=client_id, changes=ClientChanges(values))
    except InvalidInput as exc:
        return await _clients_page(request, db, {"error": exc.message}, status=exc.status)
    return notify(request, "/admin/clients", NOTICES["saved"])


async def _users_page(
    request: Request, db: Database, session: WebSession, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
    found, total = await user_service.list_users(db, limit=USERS_PAGE, offset=(page - 1) * USERS_PAGE)
    context = {
        "users": found,
        "storage": await moderation.storage_by_owner(db, [user.id for user in found]),
        "show_bytes": show_byte_size,
        "reset_link": None,
        "reset_user": None,
        "total": total,
        "page": page,
        "has_next": page * USERS_PAGE < total,
        "statuses": [status.value for status in user_service.Status],
        "roles": [role.value for role in Role],
        "me": session.user.id,
        "min_length": settings_of(request).accounts.password_min_length,
        "error": None,
    }
    return render(request, "admin_users.html", context | (extra or {}), status=status)


@router.get("/admin/users", name="admin.users")
async def users_page(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    _admin(session)
    return await _users_page(request, db, session)


@router.post("/admin/users", name="admin.users.create")
async def create_user(request: Request, runtime: RuntimeDep, db: DatabaseDep, session: FormSession) -> Response:
    _admin(session)
    form = await request.form()
    email, username, password = (str(form.get(name) or "").strip() for name in ("email", "username", "password"))
    role = str(form.get("role") or "")
    try:
        if role not in {r.value for r in Role}:
            raise InvalidInput("Choose a role.", field="role")
        await user_service.create_user(
            runtime.accounts, email=email, password=password, username=username or None, role=Role(role)
        )
    except PinholeError as exc:  # bad email or username, weak password, taken email or username
        return await _users_page(request, db, session, {"error": exc.message}, status=exc.status)
    return notify(request, "/admin/users", NOTICES["saved"])


def _not_me(session: WebSession, user_id: str) -> None:
    if user_id == session.user.id:
        raise InvalidInput("Change your own account's role or status with the CLI, not here.", field="user")


@router.post("/admin/users/{user_id}/status", name="admin.users.status")
async def set_status(request: Request, db: DatabaseDep, session: FormSession, user_id: str) -> Response:
    _admin(session)
    _not_me(session, user_id)
    form = await request.form()
    raw = str(form.get("status") or "")
    if raw not in {status.value for status in user_service.Status}:
        raise InvalidInput("Choose a status.", field="status")
    if raw == user_service.Status.SUSPENDED and form.get("confirmed") != "1":
        return redirect(f"/admin/users/{user_id}/suspend")  # says first what a suspension leaves online
    await user_service.set_status(db, user_id, user_service.Status(raw))
    return notify(request, "/admin/users", NOTICES["status"])


@router.post("/admin/users/{user_id}/role", name="admin.users.role")
async def set_role(request: Request, db: DatabaseDep, session: FormSession, user_id: str) -> Response:
    _admin(session)
    _not_me(session, user_id)
    raw = str((await request.form()).get("role") or "")
    if raw not in {role.value for role in Role}:
        raise InvalidInput("Choose a role.", field="role")
    await user_service.set_role(db, user_id, Role(raw))
    return notify(request, "/admin/users", NOTICES["role"])


def _quota_field(form: FormData, name: str, label: str, *, size: bool) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    value = parse_byte_size(raw) if size else (int(raw) if raw.isdigit() and len(raw) <= 18 else None)
    if value is None:
        example = "a size such as 5 GB or 500 MB" if size else "a whole number"
        raise InvalidInput(f"{label}: {example}, 0 for unlimited, empty for the default.", field=name)
    return value


@router.post("/admin/users/{user_id}/quota", name="admin.users.quota")
async def set_quota(request: Request, db: DatabaseDep, session: FormSession, user_id: str) -> Response:
    """The account's storage ("5 GB") and image quotas; empty: the default, 0: unlimited."""
    _admin(session)
    form = await request.form()
    try:
        quota_bytes = _quota_field(form, "quota_bytes", "Storage quota", size=True)
        quota_images = _quota_field(form, "quota_images", "Image quota", size=False)
    except InvalidInput as exc:
        return await _users_page(request, db, session, {"error": exc.message}, status=exc.status)
    await user_service.set_quota(db, user_id, quota_bytes=quota_bytes, quota_images=quota_images)
    return notify(request, "/admin/users", NOTICES["quota"])


async def _confirm_page(request: Request, db: Database, user_id: str, action: str) -> Response:
    user = await user_service.get_user(db, user_id)
    if user is None:
        raise NotFound("No such user.", field="user")
    context = {"user": user, "action": action, "footprint": await moderation.footprint(db, user_id)}
    return render(request, "admin_user_confirm.html", context)


@router.get("/admin/users/{user_id}/suspend", name="admin.users.suspend")
async def confirm_suspend(request: Request, db: DatabaseDep, session: RequiredSession, user_id: str) -> Response:
    _admin(session)
    _not_me(session, user_id)
    return await _confirm_page(request, db, user_id, "suspend")


@router.get("/admin/users/{user_id}/delete", name="admin.users.delete.confirm")
async def confirm_delete(request: Request, db: DatabaseDep, session: RequiredSession, user_id: str) -> Response:
    _admin(session)
    _not_me(session, user_id)
    return await _confirm_page(request, db, user_id, "delete")


@router.post("/admin/users/{user_id}/delete", name="admin.users.delete")
async def delete_user(request: Request, images: ImagesDep, session: FormSession, user_id: str) -> Response:
    """Delete the account with all it uploaded (after the confirmation page, which posts here)."""
    _admin(session)
    _not_me(session, user_id)
    user = await user_service.get_user(images.db, user_id)
    if user is None:
        raise NotFound("No such user.", field="user")
    gone = await moderation.delete_user(images=images, principal=session.principal, user_id=user_id)
    text = f"Deleted the account {user.username} and its {gone.images} images ({filesize(gone.bytes)})."
    return notify(request, "/admin/users", text)


@router.post("/admin/users/{user_id}/reset-link", name="admin.users.reset_link")
async def reset_link(
    request: Request, runtime: RuntimeDep, db: DatabaseDep, session: FormSession, user_id: str
) -> Response:
    """A one-time password reset link for the account, shown once on the page this answers with."""
    _admin(session)
    hours = runtime.settings.accounts.reset_link_hours
    token, _ = await password_resets.create_reset(
        runtime.accounts, user_id=user_id, created_by=session.user.id, hours=hours
    )
    user = await user_service.get_user(db, user_id)
    link = f"{public_base_url(request)}/reset/{token}"
    extra = {"reset_link": link, "reset_user": user, "reset_hours": hours}
    return await _users_page(request, db, session, extra, status=201)


async def _settings_page(
    request: Request, runtime: Runtime, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    context = {
        "states": await runtime.app_settings.describe(),
        "cache_seconds": f"{runtime.settings.server.settings_cache_seconds:g}",
        "error": None,
    }
    return render(request, "admin_settings.html", context | (extra or {}), status=status)


@router.get("/admin/settings", name="admin.settings")
async def settings_page(request: Request, runtime: RuntimeDep, session: RequiredSession) -> Response:
    _admin(session)
    return await _settings_page(request, runtime)


@router.post("/admin/settings/{key}", name="admin.settings.set")
async def set_setting(request: Request, runtime: RuntimeDep, session: FormSession, key: str) -> Response:
    _admin(session)
    setting = app_settings.definition(key)
    try:
        value = app_settings.parse_form_value(setting, str((await request.form()).get("value") or ""))
    except InvalidInput as exc:
        return await _settings_page(request, runtime, {"error": exc.message}, status=exc.status)
    await runtime.app_settings.set(key, value, user_id=session.user.id)
    return notify(request, "/admin/settings", NOTICES["setting"])


@router.post("/admin/settings/{key}/reset", name="admin.settings.reset")
async def reset_setting(request: Request, runtime: RuntimeDep, session: FormSession, key: str) -> Response:
    _admin(session)
    await runtime.app_settings.reset(key, user_id=session.user.id)
    return notify(request, "/admin/settings", NOTICES["reset"])
