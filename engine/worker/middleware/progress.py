"""Progress to the API: each job's on_progress calls become throttled, signed events.

    Progress(runtime, interval_s=1.0)   # in the worker's middleware list

Before a job runs, its callback URL and secret are registered with the outbox and a
ProgressReporter starts listening to the render; it turns the per-frame calls into at most one
event a second plus one per stage change, and queues them from its own thread, so a slow API or
Redis never stalls the render. The relay (engine/worker/outbox.py) delivers them in order. The actor
queues the terminal event itself once the result is recorded; the outbox refuses any progress
event after that, so the terminal event stays the last.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware

from engine.reporting import ProgressReporter, processing_event
from engine.worker.middleware.job_context import JobContext, current_job


class Progress(Middleware):
    def __init__(self, runtime: Any, *, interval_s: float) -> None:
        self.runtime, self.interval_s = runtime, interval_s

    def before_process_message(self, broker: Any, message: Any) -> None:
        context = current_job()
        if context is None or not context.delivery.callback_url:
            return
        self.runtime.outbox.register(context.job_id, **context.route)
        context.reporter = ProgressReporter(
            lambda stage, percent, message: self._emit(context, stage, percent, message),
            interval_s=self.interval_s)
        context.listen(context.reporter.update)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        context = current_job()
        if context is not None and context.reporter is not None:
            context.reporter.close()

    after_skip_message = after_process_message

    def _emit(self, context: JobContext, stage: str, percent: float, message: str | None) -> None:
        body = context.stamp(processing_event(job_id=context.job_id, attempt=context.attempt, stage=stage,
                                              percent=percent, message=message))
        if self.runtime.outbox.append(context.job_id, body, lease_token=context.lease_token, **context.route):
            self.runtime.relay.notify(context.job_id)
