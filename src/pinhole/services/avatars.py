"""Avatars: one picture per (client, external user), an alias onto a stored original like an image.

Replacing one swaps the row's content hash in one transaction, so readers see the old picture or the new one,
never none; the old blob (and its variants) is released after that commit, once nothing refers to it.
Authorization is the policy's: an avatar is a public resource owned by its external user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.concurrency.pool import WorkerPool
from pinhole.db.engine import Database
from pinhole.db.models import Avatar
from pinhole.errors import InvalidInput, NotFound, PinholeError
from pinhole.observability.telemetry import record_refused_upload, record_uploads
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.security.principal import Principal
from pinhole.services import blobs, listing, quotas
from pinhole.services.content import swap_content
from pinhole.services.ingest import IngestPolicy, Prepared, prepare_file, store_originals
from pinhole.storage.base import BlobStore

MAX_USER_ID = 255


class AvatarNotFound(NotFound):
    code = "avatar_not_found"

    def __init__(self) -> None:
        super().__init__("This user has no avatar.")


@dataclass(frozen=True)
class AvatarSaved:
    avatar: Avatar
    created: bool
    released: list[str]  # file keys of the replaced blob, when it went


def acting_for(principal: Principal, external_user_id: str | None, action: Action) -> tuple[Principal, str]:
    """Whose avatar the caller acts on, and as whom; raises unless the policy allows `action` on it.

    A client key without X-User-Id speaks for any of its users, so it acts as the user it names; with X-User-Id
    the named user must be that one (403 otherwise). An account acts on its own avatar (its id is the user id).
    """
    target = (external_user_id or "").strip() or principal.user_id
    if not target:
        raise InvalidInput("Name the user: send externalUserId (or X-User-Id).", field="externalUserId")
    if len(target) > MAX_USER_ID:
        raise InvalidInput(f"externalUserId must be at most {MAX_USER_ID} characters.", field="externalUserId")
    acting = principal
    if principal.speaks_for_client and principal.user_id is None:
        acting = replace(principal, user_id=target)
    if acting.client_id is None:
        raise InvalidInput("Name the user's client.", field="X-API-Key")
    policy.require(acting, action, Avatar(client_id=acting.client_id, owner_id=target), hide=False)
    return acting, target


async def find_avatar(*, db: Database, client_id: str, owner_id: str) -> Avatar | None:
    async with db.reader() as session:
        return await session.scalar(select(Avatar).where(Avatar.client_id == client_id, Avatar.owner_id == owner_id))


async def save_avatar(
    *,
    db: Database,
    store: BlobStore,
    pool: WorkerPool,
    policy: IngestPolicy,
    client_id: str,
    owner_id: str,
    path: Path,
    sha256: str,
    limit: int | None = None,
) -> AvatarSaved:
    """Set or replace the avatar of (client, user) with the received file, checked like an image upload
    (`limit`: the client's file-size limit, when the caller has read it already)."""
    started = time.perf_counter()
    try:
        if limit is None:
            limit = await quotas.file_size_limit(db=db, defaults=policy.quotas, client_id=client_id)
        prepared = await prepare_file(pool=pool, policy=policy, path=path, sha256=sha256, limit=limit)
    except PinholeError as error:
        record_refused_upload(error.code, files=1, seconds=time.perf_counter() - started, kind="avatar")
        raise
    written: list[str] = []
    try:
        async with db.writer() as session:
            await store_originals(db, session, store, [prepared], written)
            avatar, old_hash = await _put_row(db, session, client_id=client_id, owner_id=owner_id, prepared=prepared)
    except BaseException:
        for key in written:
            await store.delete(key)
        raise
    finally:
        prepared.discard()
    outcome = "stored" if prepared.key in written else "deduplicated"
    record_uploads(outcomes=[(outcome, prepared.original.size)], seconds=time.perf_counter() - started, kind="avatar")
    released: list[str] = []
    if old_hash is not None and old_hash != avatar.content_hash:
        released = await blobs.release_blobs(db=db, store=store, content_hashes=[old_hash])
    return AvatarSaved(avatar=avatar, created=old_hash is None, released=released)


async def _put_row(
    db: Database, session: AsyncSession, *, client_id: str, owner_id: str, prepared: Prepared
) -> tuple[Avatar, str | None]:
    """Insert the avatar, or swap the existing row's content in place. Returns it and the content it replaced."""
    new = prepared.content()
    values = new.values()
    inserted = await session.scalar(
        db.insert(Avatar)
        .values(client_id=client_id, owner_id=owner_id, **values)
        .on_conflict_do_nothing(index_elements=["client_id", "owner_id"])
        .returning(Avatar.id)
    )
    avatar = await session.scalar(
        select(Avatar)
        .where(Avatar.client_id == client_id, Avatar.owner_id == owner_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert avatar is not None
    if inserted is not None:
        return avatar, None
    old_hash = swap_content(avatar, new)
    await session.flush()
    return avatar, old_hash


async def delete_avatar(*, db: Database, store: BlobStore, principal: Principal, external_user_id: str) -> list[str]:
    """Delete the avatar (its blob too when nothing else refers to it); returns the file keys deleted."""
    acting, owner_id = acting_for(principal, external_user_id, Action.DELETE)
    async with db.writer() as session:
        avatar = await session.scalar(
            select(Avatar).where(Avatar.client_id == acting.client_id, Avatar.owner_id == owner_id).with_for_update()
        )
        return await _delete(session, store, avatar)


async def _delete(session: AsyncSession, store: BlobStore, avatar: Avatar | None) -> list[str]:
    if avatar is None:
        raise AvatarNotFound()
    content_hash = avatar.content_hash
    await session.delete(avatar)
    await session.flush()
    return await blobs.release_blob(session, store, content_hash)


# --- by id, across clients (the admin API) ---


async def list_avatars(
    *,
    db: Database,
    principal: Principal,
    client_id: str | None,
    owner_id: str | None,
    limit: int,
    page: int | None = None,
    cursor: str | None = None,
) -> listing.Page[Avatar]:
    """Every client's avatars (administrators only), newest first, optionally of one client or one user."""
    policy.require(principal, Action.ADMINISTER, hide=False)
    query = select(Avatar)
    if client_id is not None:
        query = query.where(Avatar.client_id == client_id)
    if owner_id is not None:
        query = query.where(Avatar.owner_id == owner_id)
    async with db.reader() as session:
        return await listing.paginate(session, query, Avatar, limit=limit, page=page, cursor=cursor)


async def get_avatar_by_id(*, db: Database, principal: Principal, avatar_id: str) -> Avatar:
    policy.require(principal, Action.ADMINISTER, hide=False)
    async with db.reader() as session:
        avatar = await session.get(Avatar, avatar_id)
    if avatar is None:
        raise AvatarNotFound()
    return avatar


async def delete_avatar_by_id(*, db: Database, store: BlobStore, principal: Principal, avatar_id: str) -> list[str]:
    """As `delete_avatar`, for any client's avatar named by its id (administrators only)."""
    policy.require(principal, Action.ADMINISTER, hide=False)
    async with db.writer() as session:
        avatar = await session.scalar(select(Avatar).where(Avatar.id == avatar_id).with_for_update())
        return await _delete(session, store, avatar)
