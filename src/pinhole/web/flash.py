"""Notices after a form post ("Saved.", "Deleted. Undo"), carried to the next page in a short-lived signed cookie.

The page that shows a notice also clears the cookie, so it shows once: a reload, a bookmark or a shared address
never brings it back (the address holds no `?done=`). The cookie is a MAC-signed JSON value under a key derived
from the server secret, so a notice cannot be planted from elsewhere; it lives `FLASH_SECONDS` at most.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from dataclasses import dataclass

from fastapi import Request, Response

from pinhole.api.proxies import is_https
from pinhole.runtime import Runtime
from pinhole.security.signing import derive_key

FLASH_COOKIE = "pinhole_flash"
FLASH_SECONDS = 60
PURPOSE = "web-flash/v1"
MAX_UNDO = 100


@dataclass(frozen=True)
class Flash:
    text: str
    undo: tuple[str, ...] = ()  # trashed image ids the notice offers to restore


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _mac(request: Request, payload: bytes) -> str:
    key = derive_key(_runtime(request).secret, PURPOSE)
    return base64.urlsafe_b64encode(hmac.digest(key, payload, "sha256")).rstrip(b"=").decode()


def set_flash(request: Request, response: Response, flash: Flash) -> Response:
    body = {"t": flash.text, "u": list(flash.undo[:MAX_UNDO]), "e": int(time.time()) + FLASH_SECONDS}
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=")
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload.decode()}.{_mac(request, payload)}",
        max_age=FLASH_SECONDS,
        path="/",
        secure=is_https(request, _runtime(request).settings.server.trusted_proxies),
        httponly=True,
        samesite="lax",
    )
    return response


def read_flash(request: Request) -> Flash | None:
    """The notice the cookie carries, if it is genuine and not stale."""
    payload, _, mac = request.cookies.get(FLASH_COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(request, payload.encode()).encode()):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        text, undo, expires = str(body["t"]), [str(i) for i in body["u"]], int(body["e"])
    except (ValueError, KeyError, TypeError):
        return None
    return Flash(text=text, undo=tuple(undo)) if expires >= time.time() else None


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        secure = is_https(request, _runtime(request).settings.server.trusted_proxies)
        response.delete_cookie(FLASH_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
