"""POST /internal/jobs/events: the worker's signed progress events (docs/worker.md).

Answers: 200 applied or ignored (stale attempt, repeated seq, job already ended), 401 unsigned,
badly signed or older than `event_max_age_s`, 404 unknown job, 422 not an event. The worker
retries only network errors, 408/425/429 and 5xx, so every refusal here is final for it.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.context import Ctx
from api.errors import ApiError, ValidationFailed, error_responses, validation_items
from api.events import ProgressEvent, apply_event, verify
from api.metrics import EVENT_LATENCY, EVENTS
from api.schemas import EventAck

router = APIRouter(prefix="/internal", tags=["internal"])


def event_schemas() -> dict:
    """The event body's component schemas, for the OpenAPI document."""
    schema = ProgressEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ProgressEvent": schema}


@router.post("/jobs/events", response_model=EventAck, responses=error_responses(401, 404),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/ProgressEvent"}}}}})
async def job_event(request: Request, ctx: Ctx) -> EventAck:
    raw = await request.body()
    try:
        verify(ctx, request.headers, raw, time.time())
        event = ProgressEvent.model_validate_json(raw)
    except ValidationError as exc:
        EVENTS.labels("refused").inc()
        raise ValidationFailed([{**item, "loc": ["body", *item["loc"]]}
                                for item in validation_items(exc.errors(include_url=False))]) from None
    except ApiError:
        EVENTS.labels("refused").inc()
        raise
    ack = await run_in_threadpool(apply_event, ctx, event)
    EVENTS.labels("applied" if ack.accepted else "ignored").inc()
    EVENT_LATENCY.observe(max(0.0, time.time() - int(request.headers["x-ugen-timestamp"])))
    return ack
