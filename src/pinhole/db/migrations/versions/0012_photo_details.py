"""photo details: date taken, camera, lens and (opted in) position of images; two account choices

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-07

`images.taken_at`, `camera`, `lens` come from the upload's EXIF before it is stripped (imaging/photo_details.py);
`images.latitude` / `longitude` only when the owner's `users.keep_location` is on (off by default).
`users.show_name` lets viewer pages show the account's display name on its public images (off by default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite too): a batch copy of `images` would trip the usage triggers on it (0004).
    op.add_column("images", sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("images", sa.Column("camera", sa.String(length=100), nullable=True))
    op.add_column("images", sa.Column("lens", sa.String(length=100), nullable=True))
    op.add_column("images", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("images", sa.Column("longitude", sa.Float(), nullable=True))
    op.create_index("ix_images_client_owner_taken", "images", ["client_id", "owner_id", "taken_at", "id"])
    op.add_column("users", sa.Column("keep_location", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("show_name", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("users", "show_name")
    op.drop_column("users", "keep_location")
    op.drop_index("ix_images_client_owner_taken", table_name="images")
    op.drop_column("images", "longitude")
    op.drop_column("images", "latitude")
    op.drop_column("images", "lens")
    op.drop_column("images", "camera")
    op.drop_column("images", "taken_at")
