"""The page a password reset link opens: the account's owner sets a new password (docs/admin.md, Password resets).

The token in the address is the credential (random, one-time, expiring; `services.password_resets`), so the form
needs no session. The page is answered with `Referrer-Policy: same-origin` like every page, so the token does not
leak to other sites.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import RuntimeDep, settings_of
from pinhole.errors import InvalidInput, WeakPassword
from pinhole.services import password_resets
from pinhole.web.rendering import WebRoute, notify, render

router = APIRouter(route_class=WebRoute)


def _page(request: Request, username: str, extra: dict[str, object] | None = None, *, status: int = 200) -> Response:
    context = {"username": username, "min_length": settings_of(request).accounts.password_min_length}
    return render(request, "reset.html", context | (extra or {}), status=status)


@router.get("/reset/{token}", name="reset")
async def reset_page(request: Request, runtime: RuntimeDep, token: str) -> Response:
    user = await password_resets.reset_user(runtime.accounts, token)
    return _page(request, user.username)


@router.post("/reset/{token}", name="reset.submit")
async def reset_submit(request: Request, runtime: RuntimeDep, token: str) -> Response:
    form = await request.form()
    password, repeat = str(form.get("password") or ""), str(form.get("password2") or "")
    try:
        await password_resets.use_reset(runtime.accounts, token, password=password, repeat=repeat)
    except (InvalidInput, WeakPassword) as exc:
        user = await password_resets.reset_user(runtime.accounts, token)
        return _page(request, user.username, {"error": exc.message}, status=exc.status)
    return notify(request, "/login", "Your new password is set. Sign in with it.")
