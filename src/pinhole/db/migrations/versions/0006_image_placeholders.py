"""image placeholders

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

BlurHash, ThumbHash, dominant colour and a tiny LQIP data URI per image, computed at upload; existing images get
them from `pinhole images backfill-placeholders`. All nullable: an image without them is simply shown without.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placeholder_blurhash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("placeholder_thumbhash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("placeholder_color", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("placeholder_lqip", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch "move and copy" of `images` would drop the counters'
    # triggers on it (migration 0004) and trip over the ones on other tables that name it.
    for column in ("placeholder_lqip", "placeholder_color", "placeholder_thumbhash", "placeholder_blurhash"):
        op.drop_column("images", column)
