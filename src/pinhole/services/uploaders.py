"""Who an upload belongs to: the tenant and owner each kind of caller uploads as, guests included.

Client keys upload into their tenant (owned by the X-User-Id, if any); accounts and their upload keys into the
accounts tenant, owned by the account; guests (when guest uploads are on) into the accounts tenant, owned by
nobody, and public only: an ownerless image can be changed by admins alone, so its uploader could not even make
it private again, let alone delete it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Client
from pinhole.errors import InvalidInput
from pinhole.security.policy import Action, require
from pinhole.security.principal import Principal, Via
from pinhole.services.users import ensure_accounts_client


@dataclass(frozen=True)
class UploadTarget:
    client_id: str
    owner_id: str | None
    public_only: bool = False

    def check(self, *, is_private: bool) -> None:
        if is_private and self.public_only:
            raise InvalidInput("Guest uploads are always public; sign in to upload private images.", field="isPrivate")


async def upload_target(*, db: Database, principal: Principal) -> UploadTarget:
    """Where this principal's upload goes; refuses principals the policy does not let upload."""
    require(principal, Action.CREATE)
    if principal.via is Via.GUEST:
        await _ensure_accounts_tenant(db)
        return UploadTarget(client_id=ACCOUNTS_CLIENT_ID, owner_id=None, public_only=True)
    assert principal.client_id is not None
    return UploadTarget(client_id=principal.client_id, owner_id=principal.user_id)


async def _ensure_accounts_tenant(db: Database) -> None:
    # The accounts tenant is made with the first account; guests may come before anyone signed up.
    async with db.reader() as session:
        if await session.get(Client, ACCOUNTS_CLIENT_ID) is not None:
            return
    async with db.writer() as session:
        await ensure_accounts_client(db, session)
