"""Cancelling reaches the worker: a flag in Redis that the job's lease holder reads with every
renewal, and the worker's acknowledgement that frees the job's concurrency slot.

    signal_cancel(settings, job_id)        # after the cancel is committed; False if Redis is down
    acknowledge_cancel(job, event)         # in apply_event: True when `event` is the worker letting go

A job cancelled while `processing` keeps `finished_at` empty, and so keeps counting against the
account's concurrent-job limit (api/limits.py), until the worker's terminal event for it arrives:
the render stops at its next progress call and that worker reports a JOB_CANCELLED failure (or,
if the flag never reached it, its result, which is not taken). A job cancelled while `queued`
is let go at once: the worker reads the flag before it renders and renders nothing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import redis

from api.settings import ApiSettings
from api.tables import Job, utcnow
from engine.worker.idempotency import JobKeys

log = logging.getLogger(__name__)

FLAG_TTL_S = 7 * 86400  # longer than a job can wait in a queue and its retries take


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def signal_cancel(settings: ApiSettings, job_id: str) -> bool:
    try:
        _client(settings.redis_url).set(JobKeys(job_id).cancel, "1", ex=FLAG_TTL_S)
    except redis.RedisError as exc:  # the job is cancelled all the same; its slot waits for the worker
        log.warning("job %s cancelled, but its worker was not told (%s)", job_id, exc)
        return False
    return True


def acknowledge_cancel(job: Job, event: Any) -> bool:
    """The worker's terminal event for a job cancelled while it ran: the slot is free now."""
    if job.status != "cancelled" or job.finished_at is not None or event.status == "processing":
        return False
    if event.attempt < job.attempt:
        return False
    job.finished_at = utcnow()
    return True
