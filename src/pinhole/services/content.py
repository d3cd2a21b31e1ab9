"""What an alias row (an image or an avatar) shows: the stored original it points at, swapped in place.

Swapping changes the row's content hash and the facts read from that original in one write, so readers see the
old content or the new, never a mix; the caller releases the old blob after its transaction commits
(`blobs.release_blobs`), which deletes it, with its variants, once nothing else refers to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pinhole.db.models import utcnow


class HasContent(Protocol):
    content_hash: str
    mime_type: str
    format: str
    width: int
    height: int
    frames: int
    size: int


@dataclass(frozen=True)
class Content:
    content_hash: str
    mime_type: str
    format: str
    width: int
    height: int
    frames: int
    size: int

    @classmethod
    def of_row(cls, row: HasContent) -> Content:
        """The content another row shows."""
        return cls(
            content_hash=row.content_hash,
            mime_type=row.mime_type,
            format=row.format,
            width=row.width,
            height=row.height,
            frames=row.frames,
            size=row.size,
        )

    def values(self) -> dict[str, Any]:
        return asdict(self)


def swap_content(row: Any, content: Content) -> str:
    """Point `row` (loaded in a writer session) at `content`, stamping `updated_at`. Returns the hash it had."""
    old_hash: str = row.content_hash
    for name, value in content.values().items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    return old_hash
