"""POST /internal/jobs/events: the worker's signed progress events (docs/worker.md);
GET /internal/music/{music_id}: a job's uploaded track, for the worker, over a signed link (api/music.py).

Answers: 200 applied or ignored (stale attempt, repeated seq, job already ended), 401 unsigned,
badly signed or older than `event_max_age_s`, 404 unknown job, 422 not an event. The worker
retries only network errors, 408/425/429 and 5xx, so every refusal here is final for it.
A music link answers 401 `INVALID_SIGNATURE` (reason `bad_signature` or `link_expired`) and 404
when the job does not name that track or the track is not its account's; a track deleted after
the job was accepted is still served to that job.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.context import Ctx
from api.dispatch import callback_secret
from api.errors import ApiError, ValidationFailed, error_responses, not_found, validation_items
from api.events import ProgressEvent, apply_event, verify
from api.metrics import EVENT_LATENCY, EVENTS
from api.music import CONTENT_TYPES, link_refusal
from api.schemas import EventAck
from api.tables import Job, MusicTrack

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


@router.get("/music/{music_id}", response_class=Response, responses={**error_responses(401, 404), 200: {"content": {
    "audio/*": {"schema": {"type": "string", "format": "binary"}}}}})
def job_music(music_id: str, ctx: Ctx, job_id: str = "", expires: str = "", signature: str = "") -> Response:
    refusal = link_refusal(callback_secret(ctx.settings.callback_secret, job_id), job_id, music_id, expires,
                           signature, now_s=time.time())
    if refusal is not None:
        raise ApiError(401, "INVALID_SIGNATURE", "the music link is not valid for this job"
                       if refusal == "bad_signature" else "the music link has expired", details={"reason": refusal})
    with ctx.session() as db:
        job = db.get(Job, job_id)
        track = db.get(MusicTrack, music_id)
        if job is None or track is None or job.spec.get("custom_music_id") != music_id \
                or track.account_id != job.account_id:
            raise not_found("Music track", music_id)
        return Response(track.data, media_type=CONTENT_TYPES[track.format])
