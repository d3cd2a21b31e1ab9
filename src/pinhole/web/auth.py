"""Signing in and out of the web app (and signing up, when sign-up is on), over the browser-session service.

Whether sign-up is open, and whether the sign-in page offers a guest upload, are run-time settings
(`runtime.app_settings`): an admin may switch them while the service runs.

The session cookie is the one the v2 `/auth/session` routes set (HttpOnly, SameSite=Lax, Secure over HTTPS, also
behind a trusted TLS proxy). The sign-in and sign-up forms, used before any session exists, are protected by a
double-submit token: a random value in a short-lived cookie that the form must repeat.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response

from pinhole.api.credentials import SESSION_COOKIE
from pinhole.api.deps import RuntimeDep, caller_address
from pinhole.api.proxies import is_https
from pinhole.api.services import SigninDep
from pinhole.db.models import User
from pinhole.errors import Conflict, InvalidInput, LoginThrottled, NotFound, Unauthorized, WeakPassword
from pinhole.runtime import Runtime
from pinhole.services import signin, users
from pinhole.services.signin import Signin
from pinhole.services.users import Status
from pinhole.web.rendering import WebRoute, local_path, notify, redirect, render
from pinhole.web.session import CSRF_FIELD, OptionalSession

router = APIRouter(route_class=WebRoute)

FORM_COOKIE = "pinhole_form"
FORM_COOKIE_SECONDS = 3600
MAX_FIELD = 1000


def _secure(request: Request, runtime: Runtime) -> bool:
    return is_https(request, runtime.settings.server.trusted_proxies)


async def _form_page(
    request: Request, runtime: Runtime, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A pre-session form with a fresh double-submit token (in the cookie and in the form)."""
    token = secrets.token_urlsafe(24)
    values = {
        "form_token": token,
        "signup_enabled": await runtime.app_settings.signup(),
        "guest_uploads": await runtime.app_settings.guest_uploads(),
        "error": None,
        "notice": None,
    }
    response = render(request, template, values | context, status=status)
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=FORM_COOKIE_SECONDS,
        path="/",
        secure=_secure(request, runtime),
        httponly=True,
        samesite="strict",
    )
    for name, value in getattr(request.state, "web_headers", {}).items():
        response.headers[name] = value
    return response


def _form_token_ok(request: Request, given: object) -> bool:
    expected = request.cookies.get(FORM_COOKIE, "")
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


async def _start(request: Request, runtime: Runtime, gate: Signin, user: User, next_url: str) -> Response:
    session = await signin.open_browser_session(
        gate, user=user, user_agent=request.headers.get("user-agent"), replacing=request.cookies.get(SESSION_COOKIE)
    )
    response = redirect(next_url)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=session.max_age,
        path="/",
        secure=_secure(request, runtime),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


@router.get("/login", name="login")
async def login_page(request: Request, runtime: RuntimeDep, session: OptionalSession) -> Response:
    next_url = local_path(request.query_params.get("next"))
    if session is not None:
        return redirect(next_url)
    notice = None
    if next_url == "/upload" and not await runtime.app_settings.guest_uploads():
        notice = "Guest uploads are turned off on this server: sign in to upload."
    return await _form_page(request, runtime, "login.html", {"next": next_url, "login": "", "notice": notice})


async def _refusal(gate: Signin, *, login: str, password: str, error: Unauthorized) -> tuple[str, int]:
    """What to tell someone whose sign-in failed: suspended accounts are named to whoever knows the password."""
    status = await users.inactive_status(gate.accounts, login=login, password=password)
    if status is Status.SUSPENDED:
        return "This account is suspended. Ask an administrator to restore it.", 403
    if status is Status.INACTIVE:
        return "This account is not active. Ask an administrator to activate it.", 403
    return "Wrong username, email or password.", error.status


@router.post("/login", name="login.submit")
async def login_submit(request: Request, runtime: RuntimeDep, gate: SigninDep) -> Response:
    form = await request.form()
    login, password = _text(form, "login").strip(), _text(form, "password")
    next_url = local_path(_text(form, "next"))
    context: dict[str, Any] = {"next": next_url, "login": login}
    if not _form_token_ok(request, form.get(CSRF_FIELD)):
        message = "The sign-in form had expired. Please try again."
        return await _form_page(request, runtime, "login.html", context | {"error": message}, status=403)
    if not login or not password:
        message = "Enter your username or email and your password."
        return await _form_page(request, runtime, "login.html", context | {"error": message}, status=400)
    try:
        user = await signin.sign_in(gate, login=login, password=password, address=caller_address(request))
    except LoginThrottled as exc:
        message = f"Too many failed sign-in attempts. Try again in {exc.retry_after} seconds."
        request.state.web_headers = exc.response_headers()
        return await _form_page(request, runtime, "login.html", context | {"error": message}, status=429)
    except Unauthorized as exc:
        message, status = await _refusal(gate, login=login, password=password, error=exc)
        return await _form_page(request, runtime, "login.html", context | {"error": message}, status=status)
    return await _start(request, runtime, gate, user, next_url)


@router.post("/logout", name="logout")
async def logout(request: Request, runtime: RuntimeDep, gate: SigninDep, session: OptionalSession) -> Response:
    if session is not None:
        form = await request.form()
        await signin.end_browser_session(gate, cookie=session.cookie, csrf=_text(form, CSRF_FIELD))
    response = notify(request, "/login", "You are signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request, runtime), httponly=True, samesite="lax")
    return response


async def _require_signup(runtime: Runtime) -> None:
    if not await runtime.app_settings.signup():
        raise NotFound("Sign-up is not open on this server.")


@router.get("/signup", name="signup")
async def signup_page(request: Request, runtime: RuntimeDep, session: OptionalSession) -> Response:
    await _require_signup(runtime)
    if session is not None:
        return redirect("/images")
    return await _form_page(request, runtime, "signup.html", {"email": "", "username": ""})


@router.post("/signup", name="signup.submit")
async def signup_submit(request: Request, runtime: RuntimeDep, gate: SigninDep) -> Response:
    await _require_signup(runtime)
    form = await request.form()
    email, username = _text(form, "email").strip(), _text(form, "username").strip()
    password, repeated = _text(form, "password"), _text(form, "password2")
    context: dict[str, Any] = {"email": email, "username": username}
    if not _form_token_ok(request, form.get(CSRF_FIELD)):
        message = "The sign-up form had expired. Please try again."
        return await _form_page(request, runtime, "signup.html", context | {"error": message}, status=403)
    if password != repeated:
        message = "The two passwords are not the same."
        return await _form_page(request, runtime, "signup.html", context | {"error": message}, status=400)
    try:
        user = await users.create_user(gate.accounts, email=email, password=password, username=username or None)
    except (InvalidInput, WeakPassword, Conflict) as exc:
        return await _form_page(request, runtime, "signup.html", context | {"error": exc.message}, status=exc.status)
    return await _start(request, runtime, gate, user, "/images")
