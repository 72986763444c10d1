"""Per-account job limits: jobs running at once, and jobs created per UTC day.

    check_job_limits(db, account, settings.limits, now)   # ApiError 429 with Retry-After

Both count every job of the account whichever key or token created it. A job cancelled while
it rendered counts as running until its worker lets go (api/cancel.py). Only job creation (and
retry) is limited; reads never are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.settings import Limits
from api.tables import ACTIVE_STATUSES, Account, Job


def _limited(kind: str, limit: int, retry_after_s: int, message: str) -> ApiError:
    return ApiError(429, "RATE_LIMITED", message,
                    details={"limit_type": kind, "limit": limit, "retry_after": retry_after_s},
                    headers={"Retry-After": str(retry_after_s)})


def _next_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _still_rendering(limits: Limits, now: datetime) -> Any:
    """Cancelled while a worker rendered it, and that worker has not let go yet (api/cancel.py);
    after `cancel_hold_s` the worker counts as gone."""
    return and_(Job.status == "cancelled", Job.finished_at.is_(None),
                Job.updated_at > now - timedelta(seconds=limits.cancel_hold_s))


def check_job_limits(db: Session, account: Account, limits: Limits, now: datetime) -> None:
    concurrent = account.max_concurrent_jobs if account.max_concurrent_jobs is not None else limits.concurrent_jobs
    daily = account.daily_job_limit if account.daily_job_limit is not None else limits.daily_jobs
    running = db.scalar(select(func.count()).select_from(Job).where(
        Job.account_id == account.id, or_(Job.status.in_(ACTIVE_STATUSES), _still_rendering(limits, now))))
    if running >= concurrent:
        raise _limited("concurrent", concurrent, limits.concurrent_retry_after_s,
                       f"Concurrent job limit reached ({concurrent} queued or processing)")
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = db.scalar(select(func.count()).select_from(Job).where(
        Job.account_id == account.id, Job.created_at >= midnight))
    if today >= daily:
        wait_s = max(1, int((_next_midnight(now) - now).total_seconds()) + 1)
        raise _limited("daily", daily, wait_s, f"Daily job limit reached ({daily} jobs per UTC day)")
