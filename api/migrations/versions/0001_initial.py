"""Accounts, API keys, jobs, the credit ledger, templates and webhook deliveries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from api.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _account_fk() -> sa.Column:
    return sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credit_balance", sa.BigInteger, nullable=False),
        sa.Column("credit_reserved", sa.BigInteger, nullable=False),
        sa.Column("max_concurrent_jobs", sa.Integer),
        sa.Column("daily_job_limit", sa.Integer),
        sa.Column("webhook_url", sa.String(2048)),
        sa.Column("webhook_secret", sa.String(256)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True), _account_fk(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_used_at", UtcDateTime), sa.Column("expires_at", UtcDateTime),
        sa.Column("revoked_at", UtcDateTime))
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True), _account_fk(),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("template_id", sa.String(128)),
        sa.Column("webhook_url", sa.String(2048)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_stage", sa.String(16), nullable=False),
        sa.Column("progress_percent", sa.Float, nullable=False),
        sa.Column("final_video_url", sa.Text), sa.Column("thumbnail_url", sa.Text),
        sa.Column("captions_url", sa.Text), sa.Column("duration_s", sa.Float),
        sa.Column("width", sa.Integer), sa.Column("height", sa.Integer),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("credits_reserved", sa.Integer, nullable=False),
        sa.Column("credits_consumed", sa.Integer, nullable=False),
        sa.Column("error", sa.JSON),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("enqueued_at", UtcDateTime),
        sa.Column("enqueue_count", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_jobs_account_idempotency"))
    op.create_index("ix_jobs_account_created", "jobs", ["account_id", "created_at"])
    op.create_index("ix_jobs_status_enqueued", "jobs", ["status", "enqueued_at"])
    op.create_table(
        "credit_transactions",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True), _account_fk(),
        sa.Column("job_id", sa.String(36)),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("balance_before", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_index("ix_credit_tx_account", "credit_transactions", ["account_id", "id"])
    op.create_index("ix_credit_transactions_job_id", "credit_transactions", ["job_id"])
    op.create_table(
        "templates",
        sa.Column("id", sa.String(36), primary_key=True), _account_fk(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("use_count", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False))
    op.create_index("ix_templates_account_id", "templates", ["account_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True), _account_fk(),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("job_attempt", sa.Integer, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.String(256)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("delivered_at", UtcDateTime),
        sa.UniqueConstraint("job_id", "event", "job_attempt", name="uq_webhook_job_event"))
    op.create_index("ix_webhook_due", "webhook_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    for table in ("webhook_deliveries", "templates", "credit_transactions", "jobs", "api_keys", "accounts"):
        op.drop_table(table)
