"""Calls to Redis or the broker that must not be lost wait out an outage instead of failing.

    wait_out(lambda: outbox.finish(...), what="record job j1's result")
    PatientBroker(broker).enqueue(message, delay=2000)   # the same, for Dramatiq's enqueue

Dramatiq acks a message as soon as the actor and its after-hooks return. A result that could not
be recorded, or a retry or hand-back that could not be enqueued, would then be gone with the
message. So these few calls retry with a capped backoff until Redis or the broker answers; the
message stays unacked meanwhile, and if the worker dies while waiting, the broker redelivers it.
Errors other than connection trouble are raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from dramatiq.errors import BrokerConnectionError

log = logging.getLogger(__name__)

T = TypeVar("T")
OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError)
MAX_DELAY_S = 5.0


def wait_out(call: Callable[[], T], *, what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    delay_s, started = 0.5, time.monotonic()
    while True:
        try:
            return call()
        except OUTAGE_ERRORS as exc:
            log.warning("cannot %s yet (%s); trying again in %.1f s (waiting %.0f s so far)",
                        what, exc, delay_s, time.monotonic() - started)
        sleep(delay_s)
        delay_s = min(delay_s * 2, MAX_DELAY_S)


class PatientBroker:
    """A broker whose `enqueue` waits out an outage; everything else is the broker's own."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        return wait_out(lambda: self._broker.enqueue(message, delay=delay),
                        what=f"enqueue message {message.message_id}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)
