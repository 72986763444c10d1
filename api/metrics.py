"""The API's Prometheus metrics, served at GET /metrics.

    EVENTS.labels("applied").inc()               # where it happens
    body = scrape(ctx)                           # the backlog gauges read now, then the text format

    ugen_api_events_total{outcome}                  applied, ignored, refused
    ugen_api_event_latency_seconds                  the worker signing an event to the API applying it
    ugen_api_jobs_finished_total{status}            completed, failed (stalled ones included), cancelled
    ugen_api_webhook_deliveries_total{outcome}      delivered, retried, dropped
    ugen_api_webhook_backlog                        webhook rows waiting to be sent (all replicas)
    ugen_api_webhook_oldest_pending_seconds         age of the oldest of them; 0 when none
    ugen_api_sweeper_actions_total{action}          resent, kept (the broker still held it), stalled
    ugen_api_worker_outbox_jobs                     jobs whose events wait in the workers' outbox (Redis)
    ugen_api_worker_dead_letters                    terminal events no API took, kept in Redis

The backlog gauges are read from the database and the workers' Redis at each scrape, so every
replica reports the same value: aggregate them with max(), not sum(). The counters are per replica.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from api.tables import WebhookDelivery, utcnow

if TYPE_CHECKING:
    from api.context import AppContext

log = logging.getLogger(__name__)

OUTBOX_KEY, DEAD_KEY = "ugen:outbox", "ugen:outbox:dead"  # engine/worker/outbox.py, refusals.py (tested equal)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

EVENTS = Counter("ugen_api_events", "Worker events by outcome", ["outcome"])
EVENT_LATENCY = Histogram("ugen_api_event_latency_seconds", "Seconds from the worker signing an event to it being applied",
                          buckets=LATENCY_BUCKETS)
JOBS_FINISHED = Counter("ugen_api_jobs_finished", "Jobs that ended, by status", ["status"])
WEBHOOKS = Counter("ugen_api_webhook_deliveries", "Webhook tries by outcome", ["outcome"])
SWEEPER = Counter("ugen_api_sweeper_actions", "What the sweeper did, by action", ["action"])
WEBHOOK_BACKLOG = Gauge("ugen_api_webhook_backlog", "Webhook deliveries waiting to be sent")
WEBHOOK_OLDEST = Gauge("ugen_api_webhook_oldest_pending_seconds", "Age of the oldest webhook waiting")
OUTBOX_JOBS = Gauge("ugen_api_worker_outbox_jobs", "Jobs whose events wait in the workers' outbox")
DEAD_LETTERS = Gauge("ugen_api_worker_dead_letters", "Terminal events dead-lettered by the workers")

for _outcome in ("applied", "ignored", "refused"):
    EVENTS.labels(_outcome)
for _status in ("completed", "failed", "cancelled"):
    JOBS_FINISHED.labels(_status)
for _outcome in ("delivered", "retried", "dropped"):
    WEBHOOKS.labels(_outcome)
for _action in ("resent", "kept", "stalled"):
    SWEEPER.labels(_action)


def _read_webhook_backlog(ctx: AppContext) -> None:
    with ctx.session() as db:
        count, oldest = db.execute(select(func.count(), func.min(WebhookDelivery.created_at))
                                   .where(WebhookDelivery.state == "pending")).one()
    WEBHOOK_BACKLOG.set(count)
    WEBHOOK_OLDEST.set((utcnow() - oldest).total_seconds() if oldest is not None else 0.0)


def _read_worker_state(ctx: AppContext) -> None:
    """From the workers' Redis; left at their last value (and logged) when it cannot be read."""
    try:
        client = redis.Redis.from_url(ctx.settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        with client:
            pipe = client.pipeline(transaction=False)
            pipe.zcard(OUTBOX_KEY)
            pipe.llen(DEAD_KEY)
            outbox, dead = pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics: cannot read the workers' Redis: %s", exc)
        return
    OUTBOX_JOBS.set(outbox)
    DEAD_LETTERS.set(dead)


def scrape(ctx: AppContext) -> bytes:
    """The Prometheus text exposition, the gauges read now."""
    _read_webhook_backlog(ctx)
    _read_worker_state(ctx)
    return generate_latest(REGISTRY)
