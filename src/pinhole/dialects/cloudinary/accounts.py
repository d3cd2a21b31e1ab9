"""Whose Cloudinary account a URL's cloud name names: the settings' (`dialects.cloudinary.cloud_name`, acting for
`client_id`) or a client's own, added as per-client keys (the cloud name picks the client, its keys sign)."""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.errors import ImageNotFound
from pinhole.runtime import Runtime
from pinhole.services import proxy_keys
from pinhole.services.proxy_keys import ProxyKey
from pinhole.settings import CloudinaryMount

API_NAME = "cloudinary"


@dataclass(frozen=True)
class Account:
    cloud_name: str
    client_id: str | None
    keys: tuple[ProxyKey, ...]  # each with `api_key` and the secret `api_secret`


async def account_for(runtime: Runtime, cloud: str) -> Account:
    """The account of `cloud`; ImageNotFound for a cloud name nobody has."""
    mount = runtime.settings.dialects.cloudinary
    if cloud == mount.cloud_name:
        return settings_account(mount)
    found = await proxy_keys.cloud_keys(db=runtime.db, server_secret=runtime.secret, cloud_name=cloud)
    if not found:
        raise ImageNotFound(f"Unknown cloud: {cloud}.")
    return Account(cloud, found[0].client_id, tuple(found))


def settings_account(mount: CloudinaryMount) -> Account:
    """The account of the settings' cloud name (`dialects.cloudinary`)."""
    keys: tuple[ProxyKey, ...] = ()
    if mount.api_secret is not None:
        secret = {"api_secret": mount.api_secret.get_secret_value()}
        keys = (ProxyKey("settings-0", mount.client_id, API_NAME, secret, mount.cloud_name, mount.api_key),)
    return Account(mount.cloud_name, mount.client_id, keys)
