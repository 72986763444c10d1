"""The worker's progress events: checked, then applied to the job at most once each.

    verify(settings, headers, raw_body, now_s)     # ApiError 401 unless signed for its job, and fresh
    ack = apply_event(ctx, ProgressEvent.model_validate_json(raw_body))

An event is ignored (answered 200 so the worker drops it) when it belongs to an earlier attempt
than the job's current one, arrives after the job ended (cancelled jobs keep rendering in the
worker until done; their result is not taken), or is a progress event whose `seq` was applied
already. `seq` counts within an attempt (a retry starts it again) and a terminal event is applied
whatever its `seq` while the job has not ended: the worker's numbering lives in Redis, and a
Redis that lost it, or a numbering that expired, must not cost the job its result. Completion
settles the credits and failure releases them, in the same transaction that records the status
and queues the webhook, so each happens once.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api import ledger
from api.cancel import acknowledge_cancel
from api.context import AppContext
from api.dispatch import callback_secret
from api.errors import ApiError
from api.links import stored_objects
from api.metrics import JOBS_FINISHED
from api.pricing import estimate
from api.schemas import EventAck
from api.tables import TERMINAL_STATUSES, Account, Job, utcnow
from api.webhooks import queue_webhook
from engine.reporting import sign
from engine.spec import JobSpec, Stage

log = logging.getLogger(__name__)
INT32 = 2**31 - 1  # the columns these land in


class EventError(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ProgressEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_id: str
    attempt: int = Field(ge=1, le=INT32)
    status: Literal["processing", "completed", "failed"]
    current_stage: Stage | None = None
    progress_percent: float = Field(0.0, ge=0, le=100)
    message: str = ""
    seq: int | None = Field(None, ge=0, le=INT32)
    final_video_url: str | None = None
    thumbnail_url: str | None = None
    captions_url: str | None = None
    duration_s: float | None = Field(None, ge=0, le=86_400)
    width: int | None = Field(None, ge=0, le=INT32)
    height: int | None = Field(None, ge=0, le=INT32)
    size_bytes: int | None = Field(None, ge=0, le=2**62)
    qa_score: float | None = Field(None, ge=0, le=1)
    objects: dict[str, Any] | None = None  # file name -> {bucket, key}, for links signed on read
    error: EventError | None = None
    trace_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")  # the worker's job span, when traced


def _refuse(message: str, reason: str, job_id: object = None, **details: Any) -> ApiError:
    # Logged: a worker keeps a refused terminal event and retries it, so an operator must see why.
    log.warning("refused an event for job %r: %s (%s)", job_id, message, reason)
    return ApiError(401, "INVALID_SIGNATURE", message, details={"reason": reason, **details})


def _job_id(raw: bytes) -> object:
    try:
        return json.loads(raw)["job_id"]
    except (ValueError, KeyError, TypeError):
        return None


def verify(ctx: AppContext, headers: Any, raw: bytes, now_s: float) -> None:
    timestamp, signature = headers.get("x-ugen-timestamp", ""), headers.get("x-ugen-signature", "")
    job_id = _job_id(raw)
    if not timestamp.isdigit() or not signature:
        raise _refuse("event is not signed", "missing_signature", job_id)
    skew_s = int(timestamp) - now_s
    if abs(skew_s) > ctx.settings.event_max_age_s:
        raise _refuse(f"event timestamp is {skew_s:.0f} s from this server's clock (at most "
                      f"{ctx.settings.event_max_age_s:.0f} s either way); check the sender's clock",
                      "stale_timestamp", job_id, skew_s=round(skew_s))
    if job_id is None:
        raise _refuse("event names no job", "no_job_id")
    secret = callback_secret(ctx.settings.callback_secret, str(job_id))
    if not hmac.compare_digest(sign(secret, timestamp, raw), signature):
        raise _refuse("event signature does not match this server's callback secret", "bad_signature", job_id)


def _why_ignored(job: Job, event: ProgressEvent) -> str | None:
    if event.attempt < job.attempt:
        return "stale_attempt"
    if job.status in TERMINAL_STATUSES:
        return "job_finished"
    if event.status == "processing" and event.seq is not None and event.seq <= job.last_seq:
        return "duplicate"
    return None


def _completed(ctx: AppContext, db: Any, account: Account, job: Job, event: ProgressEvent) -> None:
    job.status, job.current_stage, job.progress_percent = "completed", "complete", 100.0
    job.final_video_url, job.thumbnail_url, job.captions_url = (
        event.final_video_url, event.thumbnail_url, event.captions_url)
    job.duration_s, job.width, job.height, job.size_bytes = (
        event.duration_s, event.width, event.height, event.size_bytes)
    job.qa_score = event.qa_score
    job.artifacts = stored_objects(event.objects)
    cost = estimate(JobSpec.model_validate(job.spec), video_s=event.duration_s).total
    ledger.settle(db, account, job, cost)
    job.finished_at = utcnow()
    queue_webhook(db, account, job, "job.completed", links=ctx.links.for_job(job))


def _failed(db: Any, account: Account, job: Job, event: ProgressEvent) -> None:
    error = event.error or EventError(code="RENDER_FAILED", message=event.message or "render failed")
    job.status, job.error, job.finished_at = "failed", error.model_dump(), utcnow()
    ledger.release(db, account, job, why="job failed")
    queue_webhook(db, account, job, "job.failed")


def apply_event(ctx: AppContext, event: ProgressEvent) -> EventAck:
    if event.trace_id:  # joins this job's events to the worker's trace
        log.info("job %s: %s event at %s, trace %s", event.job_id, event.status, event.current_stage, event.trace_id)
    with ctx.session() as db:
        job = db.get(Job, event.job_id)
        if job is None:
            raise ApiError(404, "NOT_FOUND", "Job not found", details={"id": event.job_id})
        account = db.get(Account, job.account_id, with_for_update=True)  # lock order: account, then job
        db.refresh(job, with_for_update=True)
        if acknowledge_cancel(job, event):  # the worker let go of a cancelled job: not its result
            return EventAck(accepted=False, reason="job_finished")
        if (reason := _why_ignored(job, event)) is not None:
            return EventAck(accepted=False, reason=reason)
        job.last_seq = max(job.last_seq, event.seq or 0)
        if event.current_stage:
            job.current_stage = event.current_stage
        job.progress_percent = max(job.progress_percent, event.progress_percent)
        if event.status == "processing":
            job.status = "processing"
        elif event.status == "completed":
            _completed(ctx, db, account, job, event)
        else:
            _failed(db, account, job, event)
    if event.status != "processing":
        JOBS_FINISHED.labels(event.status).inc()
    return EventAck(accepted=True)
