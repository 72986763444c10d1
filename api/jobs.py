"""Creating, cancelling and retrying jobs: validation, idempotency, limits, credits, then the queue.

    job, created = create_job(ctx, account_id, raw_body)   # created False: an idempotent replay
    cancel_job(ctx, account_id, job_id)

Order of checks in `create_job`: the spec (422), the idempotency key (same parameters: the
existing job; different: 409), references to personas, voices, video models, music and
templates (422), the
job limits (429), credits (402). Only then is the job row written, and only after its commit is
the job sent to the worker.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import ledger
from api.cancel import signal_cancel
from api.context import AppContext
from api.dispatch import send_after_commit
from api.errors import ApiError, ValidationFailed, not_found, validation_error
from api.limits import check_job_limits
from api.metrics import JOBS_FINISHED
from api.music import active_track
from api.pricing import estimate
from api.tables import ACTIVE_STATUSES, Account, Job, utcnow
from api.templates import resolve
from api.video_models import check_video_model
from api.webhooks import url_problem
from engine.catalog import Catalog
from engine.errors import InvalidJobSpec, MusicNotFound
from engine.spec import JobSpec, parse_job

API_ONLY_FIELDS = ("job_id", "delivery")  # the API assigns these; a caller may not


def parse_request(raw: Any) -> JobSpec:
    """The job spec as `engine.spec.parse_job` validates it, plus the API's own rules."""
    if isinstance(raw, dict) and (taken := [k for k in API_ONLY_FIELDS if k in raw]):
        raise ValidationFailed([{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
                                 "input": raw[k]} for k in taken])
    try:
        spec = parse_job(raw)
    except InvalidJobSpec as exc:
        raise ValidationFailed(exc.details["detail"]) from None
    if not spec.product_image_url.lower().startswith(("https://", "http://")):
        raise validation_error(["body", "product_image_url"], "URL scheme should be 'http' or 'https'",
                               type_="url_scheme", value=spec.product_image_url)
    return spec


def params_hash(spec: JobSpec) -> str:
    params = spec.model_dump(mode="json", exclude={"job_id", "idempotency_key", "delivery"})
    return hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_references(db: Session, ctx: AppContext, account_id: str, spec: JobSpec) -> None:
    """Every id the job names exists: persona, voice, video model, custom music (422 if not)."""
    catalog = ctx.catalog
    check_video_model(ctx.video_models, spec.video_model)
    if spec.persona_id is not None and spec.persona_id not in {p.id for p in catalog.personas()}:
        raise validation_error(["body", "persona_id"], f"persona {spec.persona_id!r} does not exist",
                               type_="persona_not_found", value=spec.persona_id)
    voice_id = spec.voice_settings.voice_id
    if voice_id is not None and voice_id not in {v.id for v in catalog.voices()}:
        raise validation_error(["body", "voice_settings", "voice_id"], f"voice {voice_id!r} does not exist",
                               type_="voice_not_found", value=voice_id)
    if spec.custom_music_id is not None and active_track(db, account_id, spec.custom_music_id) is None:
        try:  # not one the account uploaded: a track installed beside the catalog (configs/music)
            catalog.music_file(spec.custom_music_id)
        except MusicNotFound as exc:
            raise validation_error(["body", "custom_music_id"], exc.message, type_="music_not_found",
                                   value=spec.custom_music_id) from None


def _replay(db: Session, account_id: str, key: str, digest: str) -> Job | None:
    existing = db.scalar(select(Job).where(Job.account_id == account_id, Job.idempotency_key == key))
    if existing is not None and existing.params_hash != digest:
        raise ApiError(409, "IDEMPOTENCY_CONFLICT",
                       "idempotency_key was already used with different parameters",
                       details={"idempotency_key": key, "job_id": existing.id})
    return existing


def _merged(db: Session, catalog: Catalog, account_id: str, raw: dict[str, Any], spec: JobSpec,
            *, count_use: bool = True) -> JobSpec:
    if spec.template_id is None:
        return spec
    defaults, template = resolve(db, catalog, account_id, spec.template_id)
    if template is not None and count_use:
        template.use_count += 1
    try:
        return parse_job(raw, template=defaults)
    except InvalidJobSpec as exc:  # a built-in template and a job that disagree
        raise ValidationFailed(exc.details["detail"]) from None


def _new_job(account: Account, spec: JobSpec, key: str, digest: str, credits: int) -> Job:
    stored = spec.model_dump(mode="json", exclude={"job_id", "delivery", "template_id"})
    stored["idempotency_key"] = key
    return Job(id=str(uuid.uuid4()), account_id=account.id, idempotency_key=key, params_hash=digest,
               spec=stored, template_id=spec.template_id, webhook_url=spec.webhook_url, status="queued",
               current_stage="prepare", progress_percent=0.0, credits_reserved=credits, credits_consumed=0,
               attempt=1, last_seq=0, enqueue_count=0)


def _insert(ctx: AppContext, account_id: str, raw: dict[str, Any], spec: JobSpec) -> tuple[Job, bool]:
    key, digest = spec.idempotency_key or str(uuid.uuid4()), params_hash(spec)
    with ctx.session() as db:
        account = db.get(Account, account_id, with_for_update=True)  # serialises this account's creations
        if (existing := _replay(db, account_id, key, digest)) is not None:
            return existing, False
        full = _merged(db, ctx.catalog, account_id, raw, spec)
        check_references(db, ctx, account_id, full)
        check_job_limits(db, account, ctx.settings.limits, utcnow())
        job = _new_job(account, full, key, digest, estimate(full).total)
        db.add(job)
        db.flush()
        ledger.reserve(db, account, job.id, job.credits_reserved)
    return job, True


def spec_with_template(ctx: AppContext, account_id: str, raw: Any) -> JobSpec:
    """The job a body describes, its template merged in, without creating anything (estimates)."""
    spec = parse_request(raw)
    with ctx.session() as db:
        full = _merged(db, ctx.catalog, account_id, raw, spec, count_use=False)
    check_video_model(ctx.video_models, full.video_model)
    return full


def create_job(ctx: AppContext, account_id: str, raw: Any) -> tuple[Job, bool]:
    spec = parse_request(raw)
    if spec.webhook_url and (problem := url_problem(spec.webhook_url, allow_private=ctx.settings.allow_private_urls)):
        raise validation_error(["body", "webhook_url"], problem, type_="url_forbidden", value=spec.webhook_url)
    try:
        job, created = _insert(ctx, account_id, raw, spec)
    except IntegrityError:  # the same key committed by a concurrent request a moment ago
        job, created = _insert(ctx, account_id, raw, spec)
    if created:
        send_after_commit(ctx, job)
    return job, created


def get_job(db: Session, account_id: str, job_id: str, *, lock: bool = False) -> Job:
    query = select(Job).where(Job.id == job_id, Job.account_id == account_id)
    job = db.scalar(query.with_for_update() if lock else query)
    if job is None:
        raise not_found("Job", job_id)
    return job


def cancel_job(ctx: AppContext, account_id: str, job_id: str) -> Job:
    with ctx.session() as db:
        account = db.get(Account, account_id, with_for_update=True)
        job = get_job(db, account_id, job_id, lock=True)
        if job.status not in ACTIVE_STATUSES:
            raise ApiError(409, "JOB_NOT_CANCELLABLE", f"a {job.status} job cannot be cancelled",
                           details={"job_id": job.id, "status": job.status})
        running = job.status == "processing"  # its worker must let go before its slot frees
        job.status, job.finished_at = "cancelled", None if running else utcnow()
        ledger.release(db, account, job, why="job cancelled")
    JOBS_FINISHED.labels("cancelled").inc()
    signal_cancel(ctx.settings, job.id)
    return job


def retry_job(ctx: AppContext, account_id: str, job_id: str) -> Job:
    """A failed job runs again as the next attempt; events of earlier attempts are ignored."""
    with ctx.session() as db:
        account = db.get(Account, account_id, with_for_update=True)
        job = get_job(db, account_id, job_id, lock=True)
        if job.status != "failed":
            raise ApiError(409, "JOB_NOT_RETRYABLE", f"a {job.status} job cannot be retried",
                           details={"job_id": job.id, "status": job.status})
        check_job_limits(db, account, ctx.settings.limits, utcnow())
        credits = estimate(JobSpec.model_validate(job.spec)).total
        ledger.reserve(db, account, job.id, credits)
        job.credits_reserved, job.attempt, job.status = credits, job.attempt + 1, "queued"
        job.current_stage, job.progress_percent, job.error = "prepare", 0.0, None
        job.last_seq = 0  # the new attempt's events are numbered on their own
        job.finished_at, job.enqueued_at, job.enqueue_count = None, None, 0
    send_after_commit(ctx, job)
    return job
