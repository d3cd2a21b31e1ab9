"""listing by last update, run-time settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

`ix_images_client_owner_updated` keeps keyset paging by `updated_at` (slink's default `orderBy`) as fast as paging
by `created_at`. `app_settings` holds the settings an admin may change while the service runs (guest uploads,
sign-up): one row per key with a JSON value; a missing row means the value from the environment/settings file.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index(
            "ix_images_client_owner_updated", ["client_id", "owner_id", "updated_at", "id"], unique=False
        )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )


def downgrade() -> None:
    op.drop_table("app_settings")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_client_owner_updated")
