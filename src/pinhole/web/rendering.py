"""Rendering pages: one Jinja2 environment (autoescaped), the security headers every page carries, HTML errors.

Pages load only this server's own scripts and styles (the Content-Security-Policy forbids inline scripts), so
user text that slipped past escaping still could not run.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from pinhole.api.errors import route_class
from pinhole.errors import PinholeError
from pinhole.web.flash import Flash, clear_flash, read_flash, set_flash

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@cache
def static_version(name: str) -> str:
    """A short hash of a static file, put in its URL so browsers may cache it for long."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.filters["filesize"] = filesize
    return env


def filesize(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Response:
    flash = read_flash(request)
    values: dict[str, Any] = {
        "request": request,
        "session": getattr(request.state, "web_session", None),
        "notice": None,
        "error": None,
        "undo": (),
        "trash_days": request.app.state.runtime.settings.web.trash_days,  # whether deletes can be undone
    }
    values.update(context or {})
    if flash is not None and not values["notice"]:
        values["notice"], values["undo"] = flash.text, flash.undo
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    clear_flash(request, response)  # shown once: a reload does not bring it back
    return response


def redirect(url: str) -> Response:
    """303 See Other: after a form post the browser GETs the next page (a reload does not post again)."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def notify(request: Request, url: str, notice: str, *, undo: tuple[str, ...] = ()) -> Response:
    """`redirect` to a page that shows `notice` once (web/flash.py); `undo`: trashed images it offers to restore."""
    return set_flash(request, redirect(url), Flash(text=notice, undo=undo))


def local_path(target: str | None, default: str = "/images") -> str:
    """`target` when it is a path on this site (a `next` parameter), else `default`: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class SignInRequired(PinholeError):
    """A page that needs a signed-in browser: answered with a redirect to the sign-in page."""

    status = 401
    code = "sign_in_required"


def render_error(request: Request, error: PinholeError) -> Response:
    if isinstance(error, SignInRequired):
        return redirect("/login?next=" + quote(request.url.path, safe="/"))
    return render(request, "error.html", {"error": error}, status=error.status)


WebRoute = route_class(render_error)
