"""Jobs: POST/GET /api/v1/jobs, GET /api/v1/jobs/{job_id}, cancel and retry.

    curl -X POST $API/api/v1/jobs -H "X-API-Key: $KEY" -H "Content-Type: application/json" \\
         -d '{"product_name": "Glow Serum", "product_image_url": "https://...", "segment_count": 3}'

The request body is the job spec of `engine.spec` (validated by its `parse_job`), less the
fields the API assigns (`job_id`, `delivery`); its OpenAPI schema is generated from that model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from sqlalchemy import func, select

from api.auth import CurrentPrincipal
from api.context import Ctx
from api.errors import error_responses
from api.jobs import cancel_job, create_job, get_job, retry_job
from api.links import Links
from api.schemas import JobOut, Page, Paging
from api.tables import Job
from engine.spec import JobSpec

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]


def job_request_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the request body's schema, the component schemas it refers to), from JobSpec."""
    schema = JobSpec.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = {k: v for k, v in schema.pop("$defs", {}).items() if k != "Delivery"}
    for field in ("job_id", "delivery"):
        schema["properties"].pop(field)
    # What the API adds to the engine's checks: image URLs are http(s), webhook URLs https.
    schema["properties"]["product_image_url"]["pattern"] = "^https?://"
    schema["properties"]["webhook_url"]["anyOf"][0]["pattern"] = "^https://"
    schema["title"] = "JobCreate"
    return schema, defs


def job_out(job: Job, links: Links) -> JobOut:
    """The job as shown: its file links signed now when the API signs them (api/links.py)."""
    error = job.error or None
    return JobOut(job_id=job.id, status=job.status, current_stage=job.current_stage,
                  progress_percent=job.progress_percent, **links.for_job(job), duration_s=job.duration_s,
                  width=job.width, height=job.height, size_bytes=job.size_bytes, qa_score=job.qa_score,
                  credits_reserved=job.credits_reserved, credits_consumed=job.credits_consumed,
                  error=error, error_message=error["message"] if error else None, attempt=job.attempt,
                  idempotency_key=job.idempotency_key, persona_id=job.spec.get("persona_id"),
                  template_id=job.template_id, config=job.spec, created_at=job.created_at,
                  updated_at=job.updated_at, finished_at=job.finished_at)


@router.post("", status_code=201, response_model=JobOut, responses=error_responses(401, 402, 403, 409, 429),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/JobCreate"}}}}},
             summary="Create a video job (200 with the existing job for a repeated idempotency_key)")
def create(response: Response, raw: Annotated[Any, Body()], principal: CurrentPrincipal,
           ctx: Ctx) -> JobOut:
    job, created = create_job(ctx, principal.account_id, raw)
    response.status_code = 201 if created else 200
    return job_out(job, ctx.links)


@router.get("", response_model=Page[JobOut], responses=error_responses(401, 403))
def list_jobs(params: Paging, principal: CurrentPrincipal, ctx: Ctx,
              status: JobStatus | None = None) -> Page[JobOut]:
    where = [Job.account_id == principal.account_id] + ([Job.status == status] if status else [])
    with ctx.session() as db:
        total = db.scalar(select(func.count()).select_from(Job).where(*where))
        rows = db.scalars(select(Job).where(*where).order_by(Job.created_at.desc(), Job.id)
                          .offset(params.offset).limit(params.page_size)).all()
        return Page[JobOut].of([job_out(j, ctx.links) for j in rows], total, params)


@router.get("/{job_id}", response_model=JobOut, responses=error_responses(401, 403, 404))
def get(job_id: str, principal: CurrentPrincipal, ctx: Ctx) -> JobOut:
    with ctx.session() as db:
        return job_out(get_job(db, principal.account_id, job_id), ctx.links)


@router.post("/{job_id}/cancel", response_model=JobOut, responses=error_responses(401, 403, 404, 409))
def cancel(job_id: str, principal: CurrentPrincipal, ctx: Ctx) -> JobOut:
    return job_out(cancel_job(ctx, principal.account_id, job_id), ctx.links)


@router.post("/{job_id}/retry", response_model=JobOut, responses=error_responses(401, 402, 403, 404, 409, 429))
def retry(job_id: str, principal: CurrentPrincipal, ctx: Ctx) -> JobOut:
    return job_out(retry_job(ctx, principal.account_id, job_id), ctx.links)
