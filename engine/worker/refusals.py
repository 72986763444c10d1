"""What the relay does with each answer to an event, and the dead-letter list for terminal ones.

    verdict(401, terminal=True)      # Verdict.HOLD: kept, retried with backoff while the outbox lives
    verdict(422, terminal=False)     # Verdict.DROP: a progress event the API will never take
    DeadLetters(redis).add("job-1", raw_event, why="HTTP 422")
    DeadLetters(redis).entries()     # [{"job_id", "why", "at_s", "event"}, ...], oldest first

A terminal event is the job's result: it is never dropped. 401, 403 and 404 are refusals an
operator can fix without the worker (a clock put right, the API's secret restored, the right API
replica answering), so the event is kept and retried for as long as its outbox lives; what is
still refused then, and any other 4xx, goes to the dead-letter list `ugen:outbox:dead` (no
expiry; a Prometheus counter counts every refusal). A refused progress event is dropped: the next
one, or the terminal event, says more.

    REFUSED{status, then}          every 4xx answer and what was done (kept, dropped, dead_lettered)
    DROPPED{reason}                progress events let go: refused, bad_callback_url
    DEAD_LETTERED{reason}          terminal events put on the dead-letter list: refused, expired,
                                   bad_callback_url
"""

from __future__ import annotations

import enum
import json
import time

import redis
from prometheus_client import Counter

DEAD = "ugen:outbox:dead"
DEAD_KEPT = 10_000  # the newest this many; an operator is expected long before
RETRY_STATUSES = frozenset({408, 425, 429})
FIXABLE_REFUSALS = frozenset({401, 403, 404})

REFUSED = Counter("ugen_events_refused", "Events the API answered with a 4xx, by status and what was done",
                  ["status", "then"])
DROPPED = Counter("ugen_events_dropped", "Progress events given up on, by reason", ["reason"])
DEAD_LETTERED = Counter("ugen_events_dead_lettered", "Terminal events moved to the dead-letter list, by reason",
                        ["reason"])


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"  # not an answer about the event (network, 5xx, 429): try again later
    HOLD = "hold"  # a terminal event refused for a fixable reason: keep it, try again later
    DROP = "drop"  # a progress event refused: let it go
    DEAD = "dead"  # a terminal event refused for good: to the dead-letter list


def verdict(status: int, *, terminal: bool) -> Verdict:
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if not 400 <= status < 500 or status in RETRY_STATUSES:
        return Verdict.RETRY
    if not terminal:
        return Verdict.DROP
    return Verdict.HOLD if status in FIXABLE_REFUSALS else Verdict.DEAD


def is_terminal(raw_event: bytes) -> bool:
    try:
        return json.loads(raw_event).get("status") in ("completed", "failed")
    except (ValueError, AttributeError):
        return False


class DeadLetters:
    """Terminal events no API took: visible with `LRANGE ugen:outbox:dead 0 -1`."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def add(self, job_id: str, raw_event: bytes, *, why: str, reason: str = "refused") -> None:
        """`why` goes into the entry, `reason` labels the counter (refused, expired, bad_callback_url)."""
        entry = {"job_id": job_id, "why": why, "at_s": round(time.time(), 3), "event": json.loads(raw_event)}
        pipe = self.client.pipeline()
        pipe.rpush(DEAD, json.dumps(entry, separators=(",", ":")))
        pipe.ltrim(DEAD, -DEAD_KEPT, -1)
        pipe.execute()
        DEAD_LETTERED.labels(reason).inc()

    def entries(self) -> list[dict]:
        return [json.loads(raw) for raw in self.client.lrange(DEAD, 0, -1)]
