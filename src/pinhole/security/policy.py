"""The authorization policy: "may this principal do this action on this resource?". Routes ask here, never decide.
The rules, in order: docs/security.md, "What each identity may do"."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol, TypeGuard, cast

from sqlalchemy import ColumnElement, and_, false, or_, true

from pinhole.errors import Forbidden, NotFound, Unauthorized
from pinhole.security.principal import Principal, Via


class Action(StrEnum):
    CREATE = "create"  # upload an image, make an album... (no resource yet)
    LIST = "list"  # list a tenant's resources
    VIEW = "view"  # the bytes of an image
    READ = "read"  # metadata (JSON)
    UPDATE = "update"
    DELETE = "delete"
    SHARE = "share"  # make or revoke share links
    TRANSFORM = "transform"  # render any size without a URL signature
    MANAGE = "manage"  # keys, sessions, the account itself
    ADMINISTER = "administer"  # admin API resources: clients, users, stats


class Owned(Protocol):
    """Images, albums and avatars: kept by a tenant, maybe owned by one of its users, maybe private."""

    @property
    def client_id(self) -> str: ...
    @property
    def owner_id(self) -> str | None: ...
    @property
    def is_private(self) -> bool: ...


class AccountOwned(Protocol):
    """Keys and sessions: belong to one user account."""

    @property
    def user_id(self) -> str: ...


OWNER_ACTIONS = frozenset({Action.UPDATE, Action.DELETE, Action.SHARE, Action.TRANSFORM})
IMAGE_ACTIONS_OF_PERSONAL_KEYS = frozenset(Action) - {Action.MANAGE, Action.ADMINISTER}


def owns(principal: Principal, resource: Owned) -> bool:
    """Whether the principal may act as the owner of `resource`."""
    if principal.is_admin:
        return True
    if principal.client_id is None or principal.client_id != resource.client_id:
        return False
    if resource.owner_id is None:
        return principal.speaks_for_client
    return resource.owner_id == principal.user_id


def _credential_allows(principal: Principal, action: Action) -> bool:
    if principal.via is Via.UPLOAD_KEY:
        return action is Action.CREATE
    if principal.via is Via.GUEST:
        return action in (Action.CREATE, Action.VIEW)
    if principal.via is Via.PERSONAL_KEY:
        return action in IMAGE_ACTIONS_OF_PERSONAL_KEYS
    return True


def may(
    principal: Principal,
    action: Action,
    resource: Owned | AccountOwned | None = None,
    *,
    token_grants: bool = False,
) -> bool:
    """The one decision. `token_grants` says a valid share token for this resource came with the request."""
    if not _credential_allows(principal, action):
        return False
    if principal.is_admin:
        return True
    if action is Action.ADMINISTER:
        return False
    if resource is None:
        # CREATE and LIST act within the principal's own tenant; anonymous callers have none. A guest (only made
        # when guest uploads are on) uploads into the accounts tenant.
        if principal.via is Via.GUEST:
            return action is Action.CREATE
        return action in (Action.CREATE, Action.LIST, Action.MANAGE) and not principal.is_anonymous
    if _is_account_owned(resource):
        return action is not Action.CREATE and principal.account_id == resource.user_id
    return _may_on_owned(principal, action, cast(Owned, resource), token_grants=token_grants)


def _is_account_owned(resource: Owned | AccountOwned) -> TypeGuard[AccountOwned]:
    return hasattr(resource, "user_id") and not hasattr(resource, "client_id")


def _may_on_owned(principal: Principal, action: Action, resource: Owned, *, token_grants: bool) -> bool:
    if action is Action.VIEW:
        return token_grants or not resource.is_private or owns(principal, resource)
    if action is Action.READ:
        if token_grants:
            return True
        same_tenant = principal.client_id is not None and principal.client_id == resource.client_id
        return same_tenant and (not resource.is_private or owns(principal, resource))
    if action in OWNER_ACTIONS:
        return owns(principal, resource)
    return False


def require(
    principal: Principal,
    action: Action,
    resource: Owned | AccountOwned | None = None,
    *,
    token_grants: bool = False,
    hide: bool = True,
) -> None:
    """Raise when `may` says no: 401 for anonymous callers, else 404 when `hide` (so ids cannot be probed) or 403."""
    if may(principal, action, resource, token_grants=token_grants):
        return
    if principal.is_anonymous and principal.via is not Via.GUEST:
        raise Unauthorized("Sign in or send an API key.")
    if hide and resource is not None:
        raise NotFound("Not found.")
    raise Forbidden("You may not do this.")


# Shorthands the image routes and services read best with.
def can_view_image(principal: Principal, image: Owned, *, token_grants: bool = False) -> bool:
    return may(principal, Action.VIEW, image, token_grants=token_grants)


def can_read_image_info(principal: Principal, image: Owned, *, token_grants: bool = False) -> bool:
    return may(principal, Action.READ, image, token_grants=token_grants)


def can_modify_image(principal: Principal, image: Owned) -> bool:
    return may(principal, Action.UPDATE, image)


def can_share_image(principal: Principal, image: Owned) -> bool:
    return may(principal, Action.SHARE, image)


def can_see_whole_album(principal: Principal, album: Owned, *, token_grants: bool = False) -> bool:
    """Private images in a (public) album are shown to its owner and to holders of its token only."""
    return token_grants or may(principal, Action.UPDATE, album)


def can_transform_freely(principal: Principal, image: Owned) -> bool:
    return may(principal, Action.TRANSFORM, image)


def readable_filter(
    principal: Principal, table: Any, *, public: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """The SQL form of `may(principal, READ, row)` for listing, over a mapped class of an `Owned` table.

    `public` is the SQL form of `not row.is_private` for tables that store it otherwise (albums keep `is_public`).
    A test checks it against `may` row by row, so the two cannot drift apart.
    """
    if not _credential_allows(principal, Action.READ) or (principal.client_id is None and not principal.is_admin):
        return false()
    if principal.is_admin:
        return true()
    mine: ColumnElement[bool] = table.owner_id == principal.user_id if principal.user_id is not None else false()
    if principal.speaks_for_client:
        mine = or_(mine, table.owner_id.is_(None))
    visible = table.is_private.is_(False) if public is None else public
    return and_(table.client_id == principal.client_id, or_(visible, mine))
