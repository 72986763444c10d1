"""The life of one job in a worker: lease, replay, render, upload, record, report.

    runner = JobRunner(runtime, broker)   # runtime: engine/worker/runtime.py
    runner.run(context)                   # the actor's body

    1. take the job's lease, or send the job back to the queue for later
    2. a job whose result is recorded is reported again: no render, no upload
    3. render in this process's work dir while a thread renews the lease and watches for a cancel
    4. upload video, thumbnail and captions under keys of this lease (`<job>/<lease token>/...`)
    5. record the result, fenced by the lease, and queue the terminal event in one Redis call

Failures: a permanent error fails the job now; a transient one is retried by Dramatiq with
backoff and fails the job on the last try; a render over its time limit is retried once;
SIGTERM hands the job back; a lost lease leaves the job to its new holder; a cancel stops the
render at the next progress call and is acknowledged with a JOB_CANCELLED failure. Every
failure is recorded while the lease is still held, so a stale worker cannot record one over
its successor's result. Redis and broker calls that must not be lost wait out an outage
(engine/worker/outage.py): the message stays unacked meanwhile.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

import redis
from dramatiq.middleware.time_limit import TimeLimitExceeded

from engine.errors import JobCancelledError, RenderFailed, RenderTimedOut, UGenError
from engine.gpu_memory import as_out_of_memory
from engine.reporting import completed_event, failed_event, processing_event
from engine.worker.idempotency import JobCancelled, Lease, LeaseKeeper, LeaseLost, safe_id
from engine.worker.middleware.job_context import JobContext
from engine.worker.middleware.shutdown import JobHandedBack
from engine.worker.outage import wait_out
from engine.worker.runtime import Runtime
from engine.worker.storage import discard, parse_target, upload_artifacts

log = logging.getLogger(__name__)


def should_retry(retries: int, error: BaseException, *, max_retries: int) -> bool:
    """Dramatiq's `retry_when`: transient errors only, at most `max_retries` times."""
    return isinstance(error, UGenError) and error.retryable and retries < max_retries


class JobRunner:
    def __init__(self, runtime: Runtime, broker: Any) -> None:
        self.runtime, self.broker, self.settings = runtime, broker, runtime.settings

    def run(self, context: JobContext) -> None:
        error = context.rejected or self._bad_target(context)
        if error is not None:  # nothing to render: no lease needed
            self._fail(context, error, lease=None)
            return
        lease = Lease.on_job(self.runtime.redis, context.job_id, ttl_s=self.settings.lease_ttl_s)
        if not wait_out(lease.acquire, what=f"take the lease of job {context.job_id}"):
            error = self._defer(context)
            if error is not None:
                self._fail(context, error, lease=None)
            return
        try:
            error = self._attempt(context, lease)
            if error is not None:  # handled outside the except blocks: no traceback keeps frames alive
                self._fail(context, error, lease=lease)
        finally:
            _release(lease)

    def _bad_target(self, context: JobContext) -> UGenError | None:
        try:
            parse_target(context.delivery.upload)  # a bad upload block fails before the render, not after
        except UGenError as exc:
            return exc
        return None

    def _attempt(self, context: JobContext, lease: Lease) -> UGenError | None:
        try:
            self._run(context, lease)
        except JobHandedBack as exc:
            self._hand_back(context, reason=str(exc))
        except JobCancelled:
            self._acknowledge_cancel(context, lease)
        except LeaseLost as exc:
            self._lost(context, exc)
        except UGenError as exc:
            exc.__context__ = None  # drop what the traceback and context keep alive (frames, tensors)
            return exc.with_traceback(None)
        except TimeLimitExceeded:
            return self._timed_out(context)
        except Exception as exc:  # noqa: BLE001 - the outermost boundary: every failure gets a code
            return self._unexpected(context, exc)
        return None

    def _run(self, context: JobContext, lease: Lease) -> None:
        if not self._replay(context):
            context.lease_token = lease.token
            self._render_and_publish(context, lease)

    def _unexpected(self, context: JobContext, exc: Exception) -> UGenError:
        out_of_memory = as_out_of_memory(exc)
        if out_of_memory is not None:  # returned bare: the traceback's tensors can be freed
            log.warning("job %s: %s", context.job_id, out_of_memory.details["message"])
            return out_of_memory
        log.exception("job %s failed unexpectedly", context.job_id)  # the details stay in the log
        return RenderFailed(f"render failed: {type(exc).__name__}")

    def _timed_out(self, context: JobContext) -> UGenError:
        # Counted in the message's options, which Dramatiq's retry keeps: one more try, not three.
        hits = int(context.message.options.get("ugen_time_limits_hit", 0)) + 1
        context.message.options["ugen_time_limits_hit"] = hits
        return RenderTimedOut("the render exceeded its time limit", hits=hits,
                              details={"time_limit_ms": context.message.options.get("time_limit")})

    def _lost(self, context: JobContext, exc: LeaseLost) -> None:
        # Whoever holds it now finishes it; if nobody does (the lease just ran out), the copy
        # sent back here will. Dropping the message could lose the job.
        log.warning("job %s: %s; looking again later", context.job_id, exc)
        self._requeue(context, delay_s=self.settings.lease_busy_delay_s)
        context.outcome = "lost"

    def _hand_back(self, context: JobContext, *, reason: str) -> None:
        log.info("job %s handed back: %s", context.job_id, reason)
        self._requeue(context, delay_s=0.0)
        self._close_progress(context)
        self._report(context, processing_event(
            job_id=context.job_id, attempt=context.attempt, stage=context.stage, percent=context.percent,
            message="worker stopping; the job goes to another worker"))
        context.outcome = "handed_back"

    def _acknowledge_cancel(self, context: JobContext, lease: Lease) -> None:
        """The API cancelled the job: its terminal event tells the API this worker let go."""
        log.info("job %s cancelled at %s %.0f%%; stopping", context.job_id, context.stage, context.percent)
        self._close_progress(context)
        try:
            self._finish(context, failed_event(job_id=context.job_id, attempt=context.attempt,
                                               error=JobCancelledError("the job was cancelled"),
                                               stage=context.stage, percent=context.percent),
                         lease_token=lease.token)
        except LeaseLost as exc:  # the next holder sees the flag too
            self._lost(context, exc)
            return
        context.outcome = "cancelled"

    def _replay(self, context: JobContext) -> bool:
        recorded = wait_out(lambda: self.runtime.results.get(context.job_id), what="read the job's result")
        if recorded is None:
            return False
        if recorded.event["status"] == "failed" and context.delivery.attempt > recorded.delivery_attempt:
            self.runtime.results.forget(context.job_id)  # the API asks for a new try of a failed job
            return False
        log.info("job %s already has a result; reporting it again", context.job_id)
        self.runtime.outbox.resend(context.job_id, recorded)
        self.runtime.relay.notify(context.job_id)
        context.outcome = "replayed"
        return True

    def _render_and_publish(self, context: JobContext, lease: Lease) -> None:
        if self.runtime.pipeline is None:  # boot failed; the log says why
            raise RenderFailed("this worker could not load its models")
        if wait_out(lease.cancelled, what="read the job's cancel flag"):
            raise JobCancelled("cancelled before the render started")
        out_dir = self.runtime.work_dir / "out" / safe_id(context.job_id)
        try:
            with LeaseKeeper(lease) as keeper:  # renewed until the result is recorded
                context.listen(lambda stage, percent: keeper.check())
                result = self.runtime.pipeline.run(context.spec, out_dir=out_dir, allow_local_files=False,
                                                   on_progress=context.progress, on_notice=context.notice)
                context.report = result.report
                self._publish(context, lease, keeper, result)
            context.outcome = "completed"
            log.info("job %s completed (attempt %d)", context.job_id, context.attempt)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _publish(self, context: JobContext, lease: Lease, keeper: LeaseKeeper, result: Any) -> None:
        storage = self.runtime.storage_for(context, lease_token=lease.token)
        objects: dict[str, Any] = {}
        try:  # never upload for a job that someone else now owns or that was cancelled
            upload_artifacts(storage, result.artifacts, retry_s=self.runtime.storage.upload_retry_s,
                             before_each=lambda: _fence(keeper, lease), into=objects)
            self._close_progress(context)
            self._finish(context, completed_event(job_id=context.job_id, attempt=context.attempt,
                                                  objects=objects, report=result.report),
                         lease_token=lease.token)
        except (LeaseLost, JobCancelled):
            discard(storage, objects.values())  # this lease's own keys: nobody else points at them
            raise

    def _fail(self, context: JobContext, error: UGenError, *, lease: Lease | None) -> None:
        self._close_progress(context)
        retry = context.rejected is None and should_retry(context.retries, error,
                                                          max_retries=self.settings.max_retries)
        context.outcome = "retried" if retry else "failed"
        if retry:
            self._report(context, processing_event(
                job_id=context.job_id, attempt=context.attempt, stage=context.stage,
                percent=context.percent, message=f"attempt {context.attempt} failed ({error.code}); retrying"))
        else:
            try:
                self._finish(context, failed_event(job_id=context.job_id, attempt=context.attempt, error=error,
                                                   stage=context.stage, percent=context.percent),
                             lease_token=lease.token if lease is not None else "")
            except LeaseLost as exc:  # a successor holds the job: its outcome, not this failure, counts
                self._lost(context, exc)
                return
        log.warning("job %s: %s: %s", context.job_id, error.code, error.message)
        raise error

    def _finish(self, context: JobContext, body: dict[str, Any], *, lease_token: str = "") -> None:
        created, _ = wait_out(
            lambda: self.runtime.outbox.finish(context.job_id, context.stamp(body), delivery_attempt=context.delivery.attempt,
                                               lease_token=lease_token, **context.route),
            what=f"record the result of job {context.job_id}")
        if not created:
            log.warning("job %s already had a result; this attempt's is not recorded", context.job_id)
        self.runtime.relay.notify(context.job_id)

    def _report(self, context: JobContext, body: dict[str, Any]) -> None:
        """A progress event, best effort: what decides the job (a result, a requeue) goes on."""
        try:
            if context.delivery.callback_url and self.runtime.outbox.append(context.job_id, context.stamp(body),
                                                                            **context.route):
                self.runtime.relay.notify(context.job_id)
        except redis.RedisError as exc:
            log.error("job %s: event %r not queued: %s", context.job_id, body.get("message"), exc)

    def _close_progress(self, context: JobContext) -> None:
        if context.reporter is not None:
            context.reporter.close()  # its last update is queued before the terminal event

    def _defer(self, context: JobContext) -> UGenError | None:
        deferrals = int(context.message.options.get("ugen_deferrals", 0))
        if deferrals >= self.settings.max_deferrals:
            return RenderFailed("the job stayed leased by another worker", details={"deferrals": deferrals})
        log.info("job %s is leased by another worker; looking again in %.0f s", context.job_id,
                 self.settings.lease_busy_delay_s)
        self._requeue(context, delay_s=self.settings.lease_busy_delay_s, ugen_deferrals=deferrals + 1)
        context.outcome = "deferred"
        return None

    def _requeue(self, context: JobContext, *, delay_s: float, **options: Any) -> None:
        """A copy goes back to the queue before this message is acked; if the broker is down, this
        waits for it, because acking without the copy would lose the job."""
        copy = context.message.copy(options=options)
        delay = int(delay_s * 1000) if delay_s > 0 else None
        wait_out(lambda: self.broker.enqueue(copy, delay=delay), what=f"send job {context.job_id} back")


def _fence(keeper: LeaseKeeper, lease: Lease) -> None:
    """Before each upload: the keeper's view (cancel, takeover, silence), then Redis's own."""
    keeper.check()
    if not wait_out(lease.held, what="check the lease before an upload"):
        raise LeaseLost(f"lease {lease.key} is no longer ours")
    if wait_out(lease.cancelled, what="read the job's cancel flag"):
        raise JobCancelled(f"job of lease {lease.key} was cancelled")


def _release(lease: Lease) -> None:
    """Best effort: a lease that cannot be released expires by itself within its ttl, and the
    error that decided the job's fate must not be replaced by this one."""
    try:
        lease.release()
    except redis.RedisError as exc:
        log.warning("lease %s not released (%s); it expires within %.0f s", lease.key, exc,
                    lease.ttl_ms / 1000)
