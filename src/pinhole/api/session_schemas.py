"""Request and response shapes of signing in (API tokens and browser sessions) and of the signed-in account."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from pinhole.api.schemas import Schema
from pinhole.db.models import User
from pinhole.security.passwords import MAX_LENGTH as MAX_PASSWORD
from pinhole.services.sessions import MAX_TOKEN_LENGTH


def _secret(description: str, *, max_length: int = MAX_PASSWORD) -> Any:
    # repr=False keeps passwords and tokens out of reprs and so out of logs and tracebacks.
    return Field(min_length=1, max_length=max_length, repr=False, description=description)


class LoginRequest(Schema):
    """One of `login`, `username` or `email` (any case), and the password."""

    login: str | None = Field(default=None, max_length=254, description="Username or email.", examples=["alice"])
    username: str | None = Field(default=None, max_length=254)
    email: str | None = Field(default=None, max_length=254)
    password: str = _secret("The account's password.")

    @model_validator(mode="after")
    def _one_identity(self) -> LoginRequest:
        if not self.identity:
            raise ValueError("give `login` (username or email), `username` or `email`")
        return self

    @property
    def identity(self) -> str:
        """The first of login, username, email that is given."""
        return next((value for value in (self.login, self.username, self.email) if value and value.strip()), "")


class AccountPublic(Schema):
    id: str
    username: str = Field(examples=["alice"])
    email: str = Field(examples=["alice@example.com"])
    display_name: str = Field(examples=["Alice"])
    role: str = Field(examples=["user"], description="`user` or `admin`.")
    status: str = Field(examples=["active"])
    created_at: datetime
    last_login_at: datetime | None
    keep_location: bool = Field(
        default=False, description="Uploads keep their EXIF GPS position (shown only to the owner); off by default."
    )
    show_name: bool = Field(
        default=False, description="Viewer pages of the account's public images show its display name."
    )

    @classmethod
    def of(cls, user: User) -> AccountPublic:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            status=user.status,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            keep_location=bool(user.keep_location),
            show_name=bool(user.show_name),
        )


class TokenPair(Schema):
    access_token: str = Field(description="A JWT: send it as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Exchange it once at `refresh` for a new pair; only a hash is stored.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])
    refresh_expires_at: datetime = Field(description="When the session ends, however often it is refreshed.")
    user: AccountPublic


class RefreshRequest(Schema):
    refresh_token: str = _secret("The current refresh token.", max_length=MAX_TOKEN_LENGTH)


class LogoutRequest(Schema):
    refresh_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN_LENGTH,
        repr=False,
        description="Any refresh token of the session; without it, the session of the bearer access token ends.",
    )


class ProfileUpdate(Schema):
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    keep_location: bool | None = Field(default=None, description="Keep the GPS position of later uploads.")
    show_name: bool | None = Field(default=None, description="Show the display name on public viewer pages.")


class PasswordChange(Schema):
    current_password: str = _secret("The password now.")
    new_password: str = _secret("The new password; it must meet the password policy.")


class BrowserSessionPublic(Schema):
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` on every state-changing request.")
    expires_at: datetime = Field(description="When the session cookie stops working.")
    user: AccountPublic
