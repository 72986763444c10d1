"""Sending jobs to the worker's Dramatiq queue, and the sweeper that sends stuck ones again.

    dispatcher = Dispatcher(settings)
    sent = dispatcher.send(job)        # after the job row is committed; None if the broker is down
    dispatcher.holds(sent.message_id)  # True while the message waits or runs; None: cannot tell
    sweep_once(ctx)                    # sends queued jobs whose send is overdue (api/sweeper.py runs it)

A job is sent only once its row is committed, so a worker never reports on a job the API does
not have. If the broker is down at creation the job stays `queued` with no send time and the
sweeper sends it when the broker is back. A job still `queued` (no event yet) long after its
send is looked at again, with the wait doubling after each send: if the broker still holds its
message (waiting behind a backlog, or on a worker), nothing is sent and the wait starts over;
only a message the broker lost is sent again. So a backlog is never multiplied on the queue,
and an autoscaler that counts the queue sees real work only. The worker renders a job id once
and replays its result to a repeated message, so a second send costs no second render. Only
the Redis broker can be asked about one message; on RabbitMQ a job is sent again after the wait.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from api.metrics import SWEEPER
from api.music import music_link
from api.settings import ApiSettings
from api.tables import Job, utcnow
from engine.tracing import inject

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
    if job.spec.get("music_enabled", True) and (music_id := job.spec.get("custom_music_id")):
        delivery["music"] = music_link(settings.callback_url, delivery["callback_secret"], job.id, music_id,
                                       now_s=time.time())
    if trace := inject():  # the request's span, so the worker's job span is its child
        delivery["trace"] = trace
    return {**job.spec, "job_id": job.id, "delivery": delivery}


@dataclass(frozen=True)
class Sent:
    message_id: str | None  # Redis's id for this copy of the message; None on RabbitMQ


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

    def send(self, job: Job) -> Sent | None:
        from engine.worker import send_job

        try:
            with self._lock:
                message = send_job(self._get_broker(), worker_message(self.settings, job), queue=self.settings.queue)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweeper sends it later
            log.warning("job %s not sent to %s yet: %s", job.id, self.settings.queue, exc)
            return None
        return Sent(message.options.get("redis_message_id"))

    def holds(self, message_id: str | None) -> bool | None:
        """Whether the broker still has this message, waiting (also delayed) or being worked on:
        Dramatiq's Redis broker keeps each message's body in `<ns>:<queue>.msgs` (`.DQ.msgs` when
        delayed) from its enqueue to its ack. None when the broker cannot tell."""
        broker = self._get_broker()
        client, namespace = getattr(broker, "client", None), getattr(broker, "namespace", None)
        if client is None or namespace is None or not message_id:
            return None
        queue = f"{namespace}:{self.settings.queue}"
        pipe = client.pipeline(transaction=False)
        pipe.hexists(f"{queue}.msgs", message_id)
        pipe.hexists(f"{queue}.DQ.msgs", message_id)
        return any(pipe.execute())


def mark_sent(ctx: AppContext, job_id: str, sent: Sent) -> None:
    with ctx.session() as db:
        job = db.get(Job, job_id, with_for_update=True)
        if job is not None:
            job.enqueued_at, job.enqueue_count = utcnow(), job.enqueue_count + 1
            job.broker_message_id = sent.message_id


def mark_still_held(ctx: AppContext, job_id: str) -> None:
    """The broker still has the job's message: the wait before the next look starts over."""
    with ctx.session() as db:
        job = db.get(Job, job_id, with_for_update=True)
        if job is not None and job.status == "queued":
            job.enqueued_at = utcnow()


def send_after_commit(ctx: AppContext, job: Job) -> None:
    if (sent := ctx.dispatcher.send(job)) is not None:
        mark_sent(ctx, job.id, sent)


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
            or_(Job.enqueued_at.is_(None), Job.enqueued_at < now - requeue_after))
            .order_by(Job.enqueued_at.is_not(None), Job.enqueued_at).limit(200)).all()
    return [job for job in candidates if _overdue(job, now, requeue_after)]


def sweep_once(ctx: AppContext) -> int:
    """Sends every overdue queued job whose message the broker no longer holds; returns how
    many went out."""
    sent = 0
    for job in overdue_jobs(ctx, utcnow()):
        try:
            held = job.enqueued_at is not None and ctx.dispatcher.holds(job.broker_message_id)
        except Exception as exc:  # noqa: BLE001 - the broker is down: try them all again next sweep
            log.warning("cannot ask the broker about job %s: %s", job.id, exc)
            break
        if held:
            mark_still_held(ctx, job.id)
            SWEEPER.labels("kept").inc()
            continue
        if (message := ctx.dispatcher.send(job)) is None:
            break  # the broker is down: try them all again next sweep
        mark_sent(ctx, job.id, message)
        SWEEPER.labels("resent").inc()
        sent += 1
    return sent
