"""The control plane's tables (SQLAlchemy 2). Migrations in api/migrations create them.

    with session_scope(factory) as db:
        job = db.get(Job, job_id)

Money is integer credits. Timestamps are timezone-aware UTC on both SQLite and PostgreSQL
(`UtcDateTime`), so comparisons never mix naive and aware values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE_STATUSES = ("queued", "processing")
TERMINAL_STATUSES = ("completed", "failed", "cancelled")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Stores UTC; SQLite hands back naive values, which this marks as UTC again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer)
    daily_job_limit: Mapped[int | None] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def available_credits(self) -> int:
        return self.credit_balance - self.credit_reserved


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key", name="uq_jobs_account_idempotency"),
                      Index("ix_jobs_account_created", "account_id", "created_at"),
                      Index("ix_jobs_status_enqueued", "status", "enqueued_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    params_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]  # the validated spec the worker gets (templates merged in)
    template_id: Mapped[str | None] = mapped_column(String(128))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    current_stage: Mapped[str] = mapped_column(String(16), default="prepare")
    progress_percent: Mapped[float] = mapped_column(Float, default=0.0)
    final_video_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    captions_url: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    qa_score: Mapped[float | None] = mapped_column(Float)  # the render's QA score, 0-1
    credits_reserved: Mapped[int] = mapped_column(Integer, default=0)
    credits_consumed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, Any] | None]
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # When the job was last sent, or last found still waiting in the broker (the sweeper's clock).
    enqueued_at: Mapped[datetime | None]
    enqueue_count: Mapped[int] = mapped_column(Integer, default=0)
    broker_message_id: Mapped[str | None] = mapped_column(String(64))  # the last send's, where the broker has one
    artifacts: Mapped[dict[str, Any] | None]  # file name -> {bucket, key}: signed when read (api/links.py)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class CreditTransaction(Base):
    """One ledger row. `amount` and the balances are available credits (balance - reserved),
    so the amounts of an account's rows add up to its available credits."""

    __tablename__ = "credit_transactions"
    __table_args__ = (Index("ix_credit_tx_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_before: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict[str, Any]]
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One webhook event for one job attempt; the unique key makes it exactly one."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("job_id", "event", "job_attempt", name="uq_webhook_job_event"),
                      Index("ix_webhook_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    job_id: Mapped[str] = mapped_column(String(36))
    job_attempt: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str | None] = mapped_column(String(256))  # copied: a later change spares in-flight retries
    body: Mapped[str] = mapped_column(Text)  # the exact bytes every try sends
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, dropped
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class MusicTrack(Base):
    """A custom music track an account uploaded: the file itself, so every replica can serve it.
    A delete only deactivates it (U-Gen's soft delete): jobs that named it keep their bed."""

    __tablename__ = "music_tracks"
    __table_args__ = (Index("ix_music_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))  # mp3, wav, ogg, aac, m4a: read from the bytes
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
