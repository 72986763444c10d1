"""Sending jobs to the worker's Dramatiq queue, and the sweeper that sends stuck ones again.

    dispatcher = Dispatcher(settings)
    dispatcher.send(job)               # after the job row is committed; False if the broker is down
    sweep_once(ctx)                    # sends queued jobs whose send is overdue (api/sweeper.py runs it)

A job is sent only once its row is committed, so a worker never reports on a job the API does
not have. If the broker is down at creation the job stays `queued` with no send time and the
sweeper sends it when the broker is back. A job still `queued` (no event yet) long after its
send is sent again, with the wait doubling each time: the worker renders a job id once and
replays its result to a repeated message, so a second send costs no second render.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from api.settings import ApiSettings
from api.tables import Job, utcnow

if TYPE_CHECKING:
    from api.context import AppContext

log = logging.getLogger(__name__)

FIRST_SEND_GRACE = timedelta(seconds=2)  # the creating request sends within this itself
MAX_DOUBLINGS = 6
BROKER_TIMEOUT_S = 5  # a hung Redis must not hang the request that creates a job


def with_timeouts(url: str) -> str:
    """A redis:// URL with socket timeouts unless it sets its own (redis-py has none by default)."""
    if not url.startswith(("redis://", "rediss://", "unix://")) or "socket_timeout" in url:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}socket_timeout={BROKER_TIMEOUT_S}&socket_connect_timeout={BROKER_TIMEOUT_S}"


def callback_secret(master_secret: str, job_id: str) -> str:
    """Each job's events are signed with a secret of its own, derived from the API's."""
    return hmac.new(master_secret.encode(), f"job:{job_id}".encode(), hashlib.sha256).hexdigest()


def worker_message(settings: ApiSettings, job: Job) -> dict[str, Any]:
    delivery = {"attempt": job.attempt, "callback_url": settings.callback_url,
                "callback_secret": callback_secret(settings.callback_secret, job.id), "upload": {}}
    return {**job.spec, "job_id": job.id, "delivery": delivery}


class Dispatcher:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._broker = None
        self._lock = threading.Lock()

    def _get_broker(self) -> Any:
        if self._broker is None:  # built on first use: importing the API connects to nothing
            from engine.worker import broker_from_url

            self._broker = broker_from_url(with_timeouts(self.settings.broker_url))
        return self._broker

    def send(self, job: Job) -> bool:
        from engine.worker import send_job

        try:
            with self._lock:
                send_job(self._get_broker(), worker_message(self.settings, job), queue=self.settings.queue)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweeper sends it later
            log.warning("job %s not sent to %s yet: %s", job.id, self.settings.queue, exc)
            return False
        return True


def mark_sent(ctx: AppContext, job_id: str) -> None:
    with ctx.session() as db:
        job = db.get(Job, job_id, with_for_update=True)
        if job is not None:
            job.enqueued_at, job.enqueue_count = utcnow(), job.enqueue_count + 1


def send_after_commit(ctx: AppContext, job: Job) -> None:
    if ctx.dispatcher.send(job):
        mark_sent(ctx, job.id)


def _overdue(job: Job, now: datetime, requeue_after: timedelta) -> bool:
    if job.enqueued_at is None:
        return job.created_at < now - FIRST_SEND_GRACE
    doublings = min(max(job.enqueue_count - 1, 0), MAX_DOUBLINGS)
    return job.enqueued_at < now - requeue_after * (2 ** doublings)


def overdue_jobs(ctx: AppContext, now: datetime) -> list[Job]:
    requeue_after = timedelta(seconds=ctx.settings.requeue_after_s)
    with ctx.session() as db:
        candidates = db.scalars(select(Job).where(
            Job.status == "queued",
            or_(Job.enqueued_at.is_(None), Job.enqueued_at < now - requeue_after)).limit(200)).all()
    return [job for job in candidates if _overdue(job, now, requeue_after)]


def sweep_once(ctx: AppContext) -> int:
    """Sends every overdue queued job; returns how many went out."""
    sent = 0
    for job in overdue_jobs(ctx, utcnow()):
        if not ctx.dispatcher.send(job):
            break  # the broker is down: try them all again next sweep
        mark_sent(ctx, job.id)
        sent += 1
    return sent
