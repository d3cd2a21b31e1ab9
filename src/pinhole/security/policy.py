"""The authorization policy: routes ask here, never decide themselves.

Tenants are isolated: a client never sees another client's images. Within a client, public images are
visible to anyone; private ones to their owner (X-User-Id) or to the holder of a valid share token.
Images uploaded without an owner belong to the client as a whole.
"""

from __future__ import annotations

from typing import Protocol

from pinhole.security.principal import Principal


class OwnedImage(Protocol):
    @property
    def client_id(self) -> str: ...
    @property
    def owner_id(self) -> str | None: ...
    @property
    def is_private(self) -> bool: ...


def _owns(principal: Principal, image: OwnedImage) -> bool:
    if principal.client_id != image.client_id:
        return False
    return image.owner_id is None or image.owner_id == principal.user_id


def can_view_image(principal: Principal, image: OwnedImage, *, token_grants: bool = False) -> bool:
    if token_grants or not image.is_private:
        return True
    return _owns(principal, image)


def can_read_image_info(principal: Principal, image: OwnedImage, *, token_grants: bool = False) -> bool:
    """Metadata is for the owning tenant (or a token holder), even for public images."""
    if token_grants:
        return True
    if principal.client_id != image.client_id:
        return False
    return can_view_image(principal, image)


def can_modify_image(principal: Principal, image: OwnedImage) -> bool:
    return _owns(principal, image)


def can_share_image(principal: Principal, image: OwnedImage) -> bool:
    return _owns(principal, image)
