"""kept blobs expire, userimages records answer another image's url

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

`blobs.preserved_at`: when a delete with `preserveOnDisk` kept the blob; the store sweep deletes kept blobs nothing
refers to once `storage.preserved_retention_days` have passed (blobs kept before this migration count from now).
`images.url_image_id`: the image whose url and key a userimages record answers after a PUT (null: its own).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preserved_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE blobs SET preserved_at = CURRENT_TIMESTAMP WHERE preserved"))
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_image_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35), as in 0006: no batch copy of tables the counters' triggers name.
    op.drop_column("images", "url_image_id")
    op.drop_column("blobs", "preserved_at")
