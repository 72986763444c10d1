"""music_tracks: custom music an account uploads (the bytes in the row, so any replica serves
them), soft-deleted with is_active.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from api.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "music_tracks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_music_account_created", "music_tracks", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_music_account_created", table_name="music_tracks")
    op.drop_table("music_tracks")
