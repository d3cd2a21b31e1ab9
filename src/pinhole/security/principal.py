"""The caller of a request, as established by an API's authentication."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Anonymous when `client_id` is None; `user_id` is the client's external user (X-User-Id)."""

    client_id: str | None = None
    user_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.client_id is None


ANONYMOUS = Principal()
