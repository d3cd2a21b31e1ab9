"""The caller of a request, as established by an API's authentication.

Every API dialect turns its credentials into one `Principal`; the policy (`security.policy`) decides what it may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Via(StrEnum):
    """How the caller proved who it is."""

    ANONYMOUS = "anonymous"
    GUEST = "guest"  # anonymous, but allowed to upload when guest uploads are on
    CLIENT_KEY = "client_key"  # a tenant's X-API-Key (with an optional X-User-Id)
    ACCESS_TOKEN = "access_token"  # noqa: S105 (a name) — a JWT access token of a user account
    SESSION = "session"  # a browser session cookie of a user account
    PERSONAL_KEY = "personal_key"  # a user's `sk_` key
    UPLOAD_KEY = "upload_key"  # a user's upload-only key


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


ACCOUNT_VIAS = frozenset({Via.ACCESS_TOKEN, Via.SESSION, Via.PERSONAL_KEY, Via.UPLOAD_KEY})


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    `client_id` is the tenant acted in (None when anonymous). `user_id` is the owner id written on images: a client's
    external user (X-User-Id) or, for accounts, the account id. `account_id` is set only for user accounts.
    `credential_id` names the key or session used (rate limits, last-used times, revocation).
    """

    client_id: str | None = None
    user_id: str | None = None
    account_id: str | None = None
    role: Role | None = None
    via: Via = Via.ANONYMOUS
    credential_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.client_id is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_account(self) -> bool:
        return self.via in ACCOUNT_VIAS

    @property
    def speaks_for_client(self) -> bool:
        """A client key speaks for its whole tenant, including images uploaded without an owner."""
        return self.via is Via.CLIENT_KEY

    @property
    def upload_only(self) -> bool:
        return self.via is Via.UPLOAD_KEY

    def rate_key(self) -> str | None:
        """The rate-limit counter key of this caller; None means count by address."""
        if self.account_id is not None:
            return f"user:{self.account_id}"
        if self.via is Via.CLIENT_KEY and self.client_id is not None:
            return f"apikey:{self.client_id}"
        return None


ANONYMOUS = Principal()
GUEST = Principal(via=Via.GUEST)
