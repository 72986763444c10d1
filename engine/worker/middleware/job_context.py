"""Job context: the job a message carries, parsed once, for the actor and the other middleware.

    ctx = current_job()              # in the actor or in a middleware hook; None elsewhere
    ctx.job_id, ctx.spec, ctx.delivery, ctx.attempt
    ctx.listen(callback)             # gets every on_progress(stage, percent) of the render
    ctx.progress("generation", 42.0) # what the pipeline calls
    ctx.stamp(event)                 # the event with the job's trace_id, when traced

A job without `job_id` takes the message id, which Dramatiq keeps across retries, so its
idempotency still holds. A spec that does not validate is kept as `ctx.rejected` for the actor
to report: the API still hears about it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dramatiq import Middleware
from pydantic import ValidationError

from engine.errors import InvalidJobSpec, UGenError
from engine.spec import Delivery, JobSpec

_CURRENT: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar("ugen_job", default=None)
Listener = Callable[[str, float], None]


@dataclass
class JobContext:
    message: Any  # dramatiq's MessageProxy
    job_id: str
    delivery: Delivery
    spec: JobSpec | None
    rejected: UGenError | None = None
    received_at: float = field(default_factory=time.time)
    listeners: list[Listener] = field(default_factory=list)
    stage: str = "prepare"
    percent: float = 0.0
    outcome: str | None = None  # completed, failed, retried, replayed, deferred, handed_back, lost
    report: dict[str, Any] | None = None  # the render's report once it finished
    reporter: Any = None  # the ProgressReporter, when the job has a callback URL
    lease_token: str = ""  # set once the actor holds the job's lease
    trace_id: str | None = None  # the job span's, when tracing is on (middleware/tracing.py)

    @property
    def retries(self) -> int:
        return int(self.message.options.get("retries", 0))

    @property
    def attempt(self) -> int:
        """The API's attempt plus Dramatiq's retries of it, so each try is told apart."""
        return self.delivery.attempt + self.retries

    @property
    def route(self) -> dict[str, Any]:
        """Where the job's events go, as the outbox's keyword arguments."""
        return {"callback_url": self.delivery.callback_url or "", "secret": self.delivery.callback_secret}

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event with the job's trace id, so the API can find the trace."""
        return {**event, "trace_id": self.trace_id} if self.trace_id else event

    def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def progress(self, stage: str, percent: float) -> None:
        self.stage, self.percent = stage, percent
        for listener in self.listeners:
            listener(stage, percent)

    def notice(self, message: str) -> None:
        """A progress event with its own message (the render's on_notice), at the stage and
        percent reached; sent in order with the progress, never coalesced away."""
        if self.reporter is not None:
            self.reporter.update(self.stage, self.percent, message=message)


def current_job() -> JobContext | None:
    return _CURRENT.get()


def _delivery(raw: Any) -> Delivery:
    """The delivery block even when the rest of the job is broken, so a refusal can be reported."""
    try:
        return Delivery.model_validate(raw or {})
    except ValidationError:
        return Delivery()


def build_context(message: Any, parse: Callable[[dict[str, Any]], JobSpec]) -> JobContext:
    raw = message.args[0] if len(message.args) == 1 and isinstance(message.args[0], dict) else None
    if raw is None:
        error = InvalidJobSpec("a job message carries exactly one JSON object, the job spec")
        return JobContext(message, message.message_id, Delivery(), None, rejected=error)
    raw = {**raw, "job_id": str(raw.get("job_id") or message.message_id)}
    context = JobContext(message, raw["job_id"], _delivery(raw.get("delivery")), None)
    try:
        context.spec = parse(raw)
    except UGenError as exc:  # invalid spec, unknown template: the job can never succeed
        context.rejected = exc
    return context


class JobContextMiddleware(Middleware):
    def __init__(self, parse: Callable[[dict[str, Any]], JobSpec]) -> None:
        self.parse = parse

    def before_process_message(self, broker: Any, message: Any) -> None:
        _CURRENT.set(build_context(message, self.parse))

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        _CURRENT.set(None)

    after_skip_message = after_process_message
