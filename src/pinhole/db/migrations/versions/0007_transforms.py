"""transforms: focal points, per-client watermark and protected originals

Revision ID: 0007
Revises: 0011 (numbered 0007 by its issue; chained after main's 0011, which landed first)
Create Date: 2026-12-07

`images.focal_x` / `focal_y` hold the image's focal point as fractions of its width and height (both null: none);
cover crops of the image are centred on it unless the request places them otherwise (docs/transforms.md).
`clients.watermark` is the watermark every public variant of the client's images carries (v2 options such as
`wm=<image id>&wm_opacity=0.4`; null: none); `clients.protect_originals` keeps originals from strangers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite too): a batch copy of `images` or `clients` would trip the usage triggers on them.
    op.add_column("images", sa.Column("focal_x", sa.Float(), nullable=True))
    op.add_column("images", sa.Column("focal_y", sa.Float(), nullable=True))
    op.add_column("clients", sa.Column("watermark", sa.String(length=500), nullable=True))
    op.add_column("clients", sa.Column("protect_originals", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("clients", "protect_originals")
    op.drop_column("clients", "watermark")
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35), as in 0006: a batch copy of `images` drops the counters'
    # triggers on it (migration 0004).
    op.drop_column("images", "focal_y")
    op.drop_column("images", "focal_x")
