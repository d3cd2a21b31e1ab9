"""Who is using the web app: the browser session behind the cookie, as a `Principal` the policy understands.

Pages read the cookie through the same service the v2 `/auth/session` routes use; forms that change anything
carry the session's CSRF token in a hidden `csrf` field (scripts send it as `X-CSRF-Token`, as the API wants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pinhole.api.credentials import SESSION_COOKIE, account_principal
from pinhole.api.services import SigninDep
from pinhole.db.models import User
from pinhole.errors import PinholeError
from pinhole.security.principal import Principal, Via
from pinhole.services import signin
from pinhole.services.signin import Signin
from pinhole.web.rendering import SignInRequired

CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class WebSession:
    cookie: str
    csrf_token: str
    session_id: str
    user: User

    @property
    def principal(self) -> Principal:
        return account_principal(self.user, via=Via.SESSION, credential_id=self.session_id)


async def optional_session(request: Request, gate: SigninDep) -> WebSession | None:
    """The live browser session of the request's cookie, or None (no cookie, or a stale one)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        live = await signin.current_browser_session(gate, cookie=cookie)
    except PinholeError:
        return None
    found = WebSession(cookie=cookie, csrf_token=live.csrf_token, session_id=live.session_id, user=live.user)
    request.state.web_session = found  # templates show who is signed in
    return found


async def required_session(session: Annotated[WebSession | None, Depends(optional_session)]) -> WebSession:
    if session is None:
        raise SignInRequired("Sign in to see this page.")
    return session


def check_form_csrf(gate: Signin, session: WebSession, given: object) -> None:
    """403 `csrf_failed` unless the form carried this session's CSRF token."""
    signin.check_csrf(gate, cookie=session.cookie, given=given if isinstance(given, str) else None)


async def signed_in_form(
    request: Request, gate: SigninDep, session: Annotated[WebSession, Depends(required_session)]
) -> WebSession:
    """A state-changing form post: a live session and its CSRF token in the form (checked before anything else)."""
    form = await request.form()
    check_form_csrf(gate, session, form.get(CSRF_FIELD))
    return session


OptionalSession = Annotated[WebSession | None, Depends(optional_session)]
RequiredSession = Annotated[WebSession, Depends(required_session)]
FormSession = Annotated[WebSession, Depends(signed_in_form)]
