"""An account's privacy choices about its photos: keep their GPS position, show its name on public pages.

Both are off until the account turns them on (`/account`). See docs/web.md (photo details, viewer pages).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import ACCOUNTS_CLIENT_ID, Image, User
from pinhole.errors import NotFound


async def keeps_location(session: AsyncSession, *, client_id: str, owner_id: str | None) -> bool:
    """Whether uploads of (`client_id`, `owner_id`) keep their position: only an account that chose to."""
    if client_id != ACCOUNTS_CLIENT_ID or owner_id is None:
        return False
    return bool(await session.scalar(select(User.keep_location).where(User.id == owner_id)))


async def set_choices(
    db: Database, user_id: str, *, keep_location: bool | None = None, show_name: bool | None = None
) -> User:
    """Change the choices given (None leaves one as it is)."""
    async with db.writer() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such account.")
        if keep_location is not None:
            user.keep_location = keep_location
        if show_name is not None:
            user.show_name = show_name
    return user


async def uploader_name(db: Database, image: Image) -> str | None:
    """The display name a public page may show for `image`: its account's, when the account allows it."""
    if image.client_id != ACCOUNTS_CLIENT_ID or image.owner_id is None or image.is_private:
        return None
    async with db.reader() as session:
        user = await session.get(User, image.owner_id)
    return user.display_name if user is not None and user.show_name else None
