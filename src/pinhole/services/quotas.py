"""Storage quotas and the file-size limit: which apply to a client and its user, how much is used, and the check
an upload makes inside its transaction.

Each limit is looked up from the most specific place that sets it: for a user, the account's own row (accounts),
else the client's `user_quota_*`, else the server default; for a client, its own row, else the default. 0 means
unlimited at every level, so a client or account can be exempted from a server-wide default. Usage counts each
image's stored size, even when identical bytes are stored once for several images.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import Client, Image, User
from pinhole.errors import PayloadTooLarge, QuotaExceeded
from pinhole.uploads.limits import human_size


@dataclass(frozen=True)
class QuotaDefaults:
    """The server-wide values: the `quotas` settings (0 means unlimited) and `uploads.max_file_bytes`."""

    max_file_bytes: int
    client_bytes: int = 0
    client_images: int = 0
    user_bytes: int = 0
    user_images: int = 0


@dataclass(frozen=True)
class Limits:
    """What applies to uploads by one client (and one of its users); None means unlimited."""

    client_bytes: int | None
    client_images: int | None
    user_bytes: int | None
    user_images: int | None
    max_file_bytes: int

    @property
    def any_quota(self) -> bool:
        quotas = (self.client_bytes, self.client_images, self.user_bytes, self.user_images)
        return any(q is not None for q in quotas)


@dataclass(frozen=True)
class Usage:
    """One quota: its name (`client_bytes`, `client_images`, `user_bytes`, `user_images`), limit and usage."""

    quota: str
    limit: int | None
    used: int

    def allows(self, more: int) -> bool:
        return self.limit is None or self.used + more <= self.limit


def _first(*values: int | None) -> int | None:
    """The first value that is set; 0 (unlimited) is a set value that ends the search and becomes None."""
    for value in values:
        if value is not None:
            return value or None
    return None


def resolve_limits(defaults: QuotaDefaults, client: Client, user: User | None = None) -> Limits:
    own = (user.quota_bytes, user.quota_images) if user is not None else (None, None)
    return Limits(
        client_bytes=_first(client.quota_bytes, defaults.client_bytes),
        client_images=_first(client.quota_images, defaults.client_images),
        user_bytes=_first(own[0], client.user_quota_bytes, defaults.user_bytes),
        user_images=_first(own[1], client.user_quota_images, defaults.user_images),
        max_file_bytes=min(client.max_file_bytes or defaults.max_file_bytes, defaults.max_file_bytes),
    )


async def load_limits(
    *, session: AsyncSession, defaults: QuotaDefaults, client_id: str, owner_id: str | None
) -> Limits | None:
    """The limits of `client_id` (and its user `owner_id`); None when the client does not exist."""
    client = await session.get(Client, client_id)
    if client is None:
        return None
    user = None
    if owner_id is not None:  # an account's images live in its tenant with the account id as owner
        user = await session.scalar(select(User).where(User.id == owner_id, User.client_id == client_id))
    return resolve_limits(defaults, client, user)


async def file_size_limit(*, db: Database, defaults: QuotaDefaults, client_id: str) -> int:
    """The largest file `client_id` may upload: its own limit, capped by the server's."""
    async with db.reader() as session:
        limits = await load_limits(session=session, defaults=defaults, client_id=client_id, owner_id=None)
    return limits.max_file_bytes if limits is not None else defaults.max_file_bytes


def check_file_size(size: int, *, limit: int, field: str = "file") -> None:
    if size > limit:
        raise PayloadTooLarge(
            f"The file is too large: the limit is {human_size(limit)} per file.",
            field=field,
            details={"limit": limit, "field": field},
        )


async def _stored(session: AsyncSession, *, client_id: str, owner_id: str | None) -> tuple[int, int]:
    """Bytes and images stored by a client, or by one of its users when `owner_id` is given."""
    stmt = select(func.coalesce(func.sum(Image.size), 0), func.count()).where(Image.client_id == client_id)
    if owner_id is not None:
        stmt = stmt.where(Image.owner_id == owner_id)
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1])


async def usage(
    *, session: AsyncSession, limits: Limits, client_id: str, owner_id: str | None, only_limited: bool = False
) -> list[Usage]:
    """Each quota of the client (and of its user when `owner_id` is given) with what is stored against it.

    `only_limited` skips the counting for quotas that are unlimited (the upload check needs no more).
    """
    scopes: list[tuple[str, str | None, int | None, int | None]] = [
        ("client", None, limits.client_bytes, limits.client_images)
    ]
    if owner_id is not None:
        scopes.append(("user", owner_id, limits.user_bytes, limits.user_images))
    found: list[Usage] = []
    for name, owner, max_bytes, max_images in scopes:
        if only_limited and max_bytes is None and max_images is None:
            continue
        used_bytes, used_images = await _stored(session, client_id=client_id, owner_id=owner)
        found += [Usage(f"{name}_bytes", max_bytes, used_bytes), Usage(f"{name}_images", max_images, used_images)]
    return found


async def quota_report(*, db: Database, defaults: QuotaDefaults, client_id: str, owner_id: str | None) -> list[Usage]:
    """Every quota of a client (and of one of its users) with its usage, for stats and admin views."""
    async with db.reader() as session:
        limits = await load_limits(session=session, defaults=defaults, client_id=client_id, owner_id=owner_id)
        if limits is None:
            return []
        return await usage(session=session, limits=limits, client_id=client_id, owner_id=owner_id)


async def check_upload(
    *,
    session: AsyncSession,
    defaults: QuotaDefaults,
    client_id: str,
    owner_id: str | None,
    size: int,
    images: int = 1,
) -> None:
    """Raise `QuotaExceeded` unless `images` more images of `size` bytes in all fit every quota.

    Call inside the writer transaction that records the image, before anything is stored. When a quota applies,
    the client row is locked first (`FOR UPDATE` on PostgreSQL; SQLite writers already hold the database's write
    lock), so concurrent uploads of one client check one after the other and cannot together pass a limit.
    """
    limits = await load_limits(session=session, defaults=defaults, client_id=client_id, owner_id=owner_id)
    if limits is None or not limits.any_quota:
        return
    # SQLAlchemy leaves FOR UPDATE out on SQLite, whose writers hold the database's write lock already.
    await session.execute(select(Client.id).where(Client.id == client_id).with_for_update())
    found = await usage(session=session, limits=limits, client_id=client_id, owner_id=owner_id, only_limited=True)
    for quota in found:
        more = size if quota.quota.endswith("_bytes") else images
        if not quota.allows(more):
            raise _exceeded(quota, more)


def _exceeded(quota: Usage, more: int) -> QuotaExceeded:
    assert quota.limit is not None
    whose = "This client" if quota.quota.startswith("client") else "This user"
    if quota.quota.endswith("_bytes"):
        message = (
            f"{whose} may store {human_size(quota.limit)} of images and has {human_size(quota.used)}; "
            f"this upload needs {human_size(more)} more. Delete images or ask for a larger quota."
        )
    else:
        adds = "" if more == 1 else f"; this upload adds {more}"
        message = f"{whose} may store {quota.limit} images and has {quota.used}{adds}. Delete images or ask for more."
    return QuotaExceeded(message, quota=quota.quota, limit=quota.limit, used=quota.used, requested=more)
