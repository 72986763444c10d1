"""Dramatiq's Retries, with a re-enqueue that waits out a broker outage.

    PatientRetries(max_retries=3, min_backoff=15_000, max_backoff=300_000)   # in place of Retries

Dramatiq runs this hook, then acks the message. Its own Retries logs a failed enqueue and goes
on, so a transient failure during a Redis or RabbitMQ outage was acked away with no retry left
anywhere: the job was lost. Here the enqueue waits until the broker answers
(engine/worker/outage.py); the message stays unacked meanwhile, and if the worker dies while
waiting, the broker delivers the message again.
"""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import Retries

from engine.worker.outage import PatientBroker


class PatientRetries(Retries):
    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        super().after_process_message(PatientBroker(broker), message, result=result, exception=exception)
