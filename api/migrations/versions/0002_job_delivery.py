"""jobs.broker_message_id: the id the broker gave the job's last send, so the sweeper can ask
whether the broker still holds it before sending the job again. jobs.artifacts: each file's
bucket and key, so the API signs its links when they are read.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("broker_message_id", sa.String(64)))
        batch.add_column(sa.Column("artifacts", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("artifacts")
        batch.drop_column("broker_message_id")
