"""The admin page for transform presets: list the configured ones (read-only) and add, change or delete the ones
stored in the database, through the same `PresetStore` as `/v2/admin/presets` (docs/transforms.md, "Presets")."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import RuntimeDep
from pinhole.errors import PinholeError
from pinhole.runtime import Runtime
from pinhole.security.policy import Action, require
from pinhole.web.rendering import WebRoute, notify, render
from pinhole.web.session import FormSession, RequiredSession

router = APIRouter(route_class=WebRoute)

NOTICES = {
    "created": "The preset is added.",
    "saved": "The preset is saved. Other server processes apply it within their cache time.",
    "deleted": "The preset is deleted.",
}


async def _page(
    request: Request, runtime: Runtime, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "presets": await runtime.presets.describe(),
        "cache_seconds": f"{runtime.settings.server.settings_cache_seconds:g}",
        "form": {},
    }
    return render(request, "admin_presets.html", context | (extra or {}), status=status)


def _eager(form: Any) -> bool:
    return str(form.get("eager") or "") == "on"


@router.get("/admin/presets", name="admin.presets")
async def presets_page(request: Request, runtime: RuntimeDep, session: RequiredSession) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    return await _page(request, runtime)


@router.post("/admin/presets", name="admin.presets.create")
async def create_preset(request: Request, runtime: RuntimeDep, session: FormSession) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    form = await request.form()
    name, query = str(form.get("name") or "").strip(), str(form.get("query") or "")
    try:
        await runtime.presets.create(name, query, eager=_eager(form), user_id=session.user.id)
    except PinholeError as exc:
        extra = {"error": exc.message, "form": {"name": name, "query": query, "eager": _eager(form)}}
        return await _page(request, runtime, extra, status=exc.status)
    return notify(request, f"/admin/presets#preset-{quote(name)}", NOTICES["created"])


@router.post("/admin/presets/{name}", name="admin.presets.update")
async def update_preset(request: Request, runtime: RuntimeDep, session: FormSession, name: str) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    form = await request.form()
    try:
        await runtime.presets.update(
            name, query=str(form.get("query") or ""), eager=_eager(form), user_id=session.user.id
        )
    except PinholeError as exc:
        return await _page(request, runtime, {"error": f"{name}: {exc.message}"}, status=exc.status)
    return notify(request, f"/admin/presets#preset-{quote(name)}", NOTICES["saved"])


@router.post("/admin/presets/{name}/delete", name="admin.presets.delete")
async def delete_preset(request: Request, runtime: RuntimeDep, session: FormSession, name: str) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    await runtime.presets.delete(name, user_id=session.user.id)
    return notify(request, "/admin/presets", NOTICES["deleted"])
