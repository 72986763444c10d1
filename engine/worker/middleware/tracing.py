"""Traces of each job: a job span under the API's request, one child span per render stage.

    Tracing()   # in the worker's middleware list, right after JobContextMiddleware

Off unless the standard OTEL_* variables turn it on (engine/tracing.py). Each worker process
starts its exporter after the fork. A message's `delivery.trace` (W3C `traceparent`,
`tracestate`, put there by the API) makes the `render_job` span a child of the API's span;
each stage the render reports (engine/progress.py) opens a `stage <name>` span under it, ended
when the next stage starts or the job ends. Spans carry `job_id`, `attempt` and `stage`; a
failure is recorded on the job span and the open stage span with its error code. The job span
is current on the actor's thread, so JSON log lines carry its ids, and the job's events carry
its `trace_id`.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware

from engine.tracing import Opened, begin, finish, setup_tracing, stop_tracing
from engine.worker.middleware.job_context import JobContext, current_job


class JobSpans:
    """The job's span and the span of the stage it is in."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.job: Opened | None = begin(
            "render_job", carrier=context.delivery.trace, kind="consumer", current=True,
            attributes={"job_id": context.job_id, "attempt": context.attempt,
                        "messaging.message.id": context.message.message_id})
        self.stage: Opened | None = None
        self.stage_name: str | None = None

    def on_progress(self, stage: str, percent: float) -> None:
        if stage == self.stage_name:
            return
        finish(self.stage)
        self.stage_name = stage
        self.stage = begin(f"stage {stage}", parent=self.job, attributes={
            "job_id": self.context.job_id, "attempt": self.context.attempt, "stage": stage})

    def close(self, error: BaseException | None) -> None:
        finish(self.stage, error=error)
        finish(self.job, error=error, stage=self.context.stage, outcome=self.context.outcome)


class Tracing(Middleware):
    def __init__(self, service_name: str = "ugen-worker") -> None:
        self.service_name = service_name
        self._spans: dict[str, JobSpans] = {}  # by message id; one job a thread

    def after_process_boot(self, broker: Any) -> None:
        setup_tracing(self.service_name)

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        stop_tracing()

    def before_process_message(self, broker: Any, message: Any) -> None:
        context = current_job()
        if context is None:
            return
        spans = JobSpans(context)
        if spans.job is None:  # tracing is off
            return
        context.trace_id = spans.job.trace_id
        context.listen(spans.on_progress)
        self._spans[message.message_id] = spans

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        spans = self._spans.pop(message.message_id, None)
        if spans is not None:
            spans.close(exception)

    after_skip_message = after_process_message
