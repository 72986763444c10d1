"""The life of one job in a worker: replay, lease, render, upload, record, report.

    runtime = Runtime(settings, StorageSettings.from_env())   # opens nothing yet
    runtime.boot()                  # once per process, after the fork: Redis, models, relay
    JobRunner(runtime, broker).run(context)                  # the actor's body

    1. take the job's lease, or send the job back to the queue for later
    2. a job whose result is recorded is reported again: no render, no upload
    3. render in this process's work dir while a thread renews the lease
    4. upload video, thumbnail and captions under keys stable per job_id
    5. record the result and queue the terminal event in one Redis call

Failures: a permanent error fails the job now; a transient one is retried by Dramatiq with
backoff and fails the job on the last try; SIGTERM hands the job back; a lost lease leaves
the job to its new holder. Only what Dramatiq should retry or fail is raised.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
from dramatiq.middleware.time_limit import TimeLimitExceeded

from engine.catalog import Catalog
from engine.errors import RenderFailed, UGenError
from engine.gpu_memory import as_out_of_memory
from engine.reporting import completed_event, failed_event, processing_event
from engine.settings import Settings
from engine.spec import JobSpec, parse_job
from engine.worker.idempotency import Lease, LeaseKeeper, LeaseLost, ResultStore, safe_id
from engine.worker.middleware.job_context import JobContext
from engine.worker.middleware.liveness import pid_alive
from engine.worker.middleware.shutdown import JobHandedBack
from engine.worker.outbox import Outbox, Relay
from engine.worker.settings import WorkerSettings
from engine.worker.storage import StorageSettings, make_s3_client, parse_target, storage_for, upload_artifacts

log = logging.getLogger(__name__)
PipelineFactory = Callable[[Settings, Catalog], Any]


def should_retry(retries: int, error: BaseException, *, max_retries: int) -> bool:
    """Dramatiq's `retry_when`: transient errors only, at most `max_retries` times."""
    return isinstance(error, UGenError) and error.retryable and retries < max_retries


def build_pipeline(settings: Settings, catalog: Catalog) -> Any:
    """The render pipeline with every model loaded now, not on the first job."""
    from models.registry import Registry
    from pipelines.render import RenderPipeline

    registry = Registry.from_settings(settings)
    registry.load_all((v.model_path, v.id, v.transform) for v in catalog.voices())
    registry.warm_up()  # a tiny call per backend that offers one: the first job pays nothing
    return RenderPipeline(registry=registry, catalog=catalog, settings=settings)


class Runtime:
    """What a worker process holds for all its jobs."""

    def __init__(self, settings: WorkerSettings, storage: StorageSettings, *,
                 pipeline_factory: PipelineFactory = build_pipeline) -> None:
        self.settings, self.storage, self.pipeline_factory = settings, storage, pipeline_factory
        self.catalog = Catalog(settings.engine.configs_dir)
        self.pipeline: Any = None
        self._s3: Any = None
        self._s3_lock = threading.Lock()

    def boot(self) -> None:
        s = self.settings
        self.redis = redis.Redis.from_url(s.redis_url, socket_timeout=15, socket_connect_timeout=5,
                                          health_check_interval=30)
        self.outbox = Outbox(self.redis, ttl_s=s.outbox_ttl_s, result_ttl_s=s.result_ttl_s)
        self.results = ResultStore(self.redis)
        self.relay = Relay(self.redis, callback_timeout_s=s.callback_timeout_s,
                           max_backoff_s=s.callback_max_backoff_s)
        self.relay.start()
        self.work_dir = prepare_work_dir(s.engine.work_root, stale_s=s.time_limit_max_s + s.shutdown_grace_s)
        started = time.perf_counter()
        self.pipeline = self.pipeline_factory(replace(s.engine, work_root=self.work_dir), self.catalog)
        if self.storage.kind == "s3":
            self.s3_client()  # boto3 loads now, not during the first upload
        log.info("models loaded in %.1f s; work dir %s", time.perf_counter() - started, self.work_dir)

    def close(self) -> None:
        self.relay.stop(flush_s=min(10.0, self.settings.shutdown_grace_s))
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def parse(self, raw: dict[str, Any]) -> JobSpec:
        template = self.catalog.template(raw["template_id"]).config if raw.get("template_id") else None
        return parse_job(raw, template=template)

    def s3_client(self) -> Any:
        with self._s3_lock:  # built on first use: a worker that never uploads to S3 never imports boto3
            if self._s3 is None:
                self._s3 = make_s3_client(self.storage)
            return self._s3

    def storage_for(self, context: JobContext) -> Any:
        target = parse_target(context.delivery.upload)
        wants_s3 = target.kind == "s3" or (target.kind == "default" and self.storage.kind == "s3")
        return storage_for(context.job_id, context.delivery.upload, settings=self.storage,
                           s3_client=self.s3_client() if wants_s3 else None)


def prepare_work_dir(root: Path | None, *, stale_s: float) -> Path:
    """This process's own work dir, after removing what crashed workers left behind: dirs of
    dead processes on this host, and render dirs older than any live render can be."""
    root = root or Path(tempfile.gettempdir())
    host = socket.gethostname()
    for path in root.glob(f"ugen-worker-{host}-*"):
        pid = path.name.rsplit("-", 1)[-1]
        # Our own pid too: a restarted container can get the pid its predecessor had.
        if not pid.isdigit() or not pid_alive(int(pid)) or int(pid) == os.getpid():
            shutil.rmtree(path, ignore_errors=True)
    for path in root.glob("ugen-job-*"):
        try:
            if time.time() - path.stat().st_mtime > stale_s:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            continue  # its render finished meanwhile
    mine = root / f"ugen-worker-{host}-{os.getpid()}"
    mine.mkdir(parents=True, exist_ok=True)
    return mine


class JobRunner:
    def __init__(self, runtime: Runtime, broker: Any) -> None:
        self.runtime, self.broker, self.settings = runtime, broker, runtime.settings

    def run(self, context: JobContext) -> None:
        error = self._attempt(context)
        if error is not None:  # handled outside the except blocks: no traceback keeps frames alive
            self._fail(context, error)

    def _attempt(self, context: JobContext) -> UGenError | None:
        try:
            self._run(context)
        except JobHandedBack as exc:
            self._hand_back(context, reason=str(exc))
        except LeaseLost as exc:
            # Whoever holds it now finishes it; if nobody does (the lease just ran out), the
            # copy sent back here will. Dropping the message could lose the job.
            log.warning("job %s: %s; looking again later", context.job_id, exc)
            self._requeue(context, delay_s=self.settings.lease_busy_delay_s)
            context.outcome = "lost"
        except UGenError as exc:
            exc.__context__ = None  # drop what the traceback and context keep alive (frames, tensors)
            return exc.with_traceback(None)
        except TimeLimitExceeded:
            return RenderFailed("the render exceeded its time limit",
                                details={"time_limit_ms": context.message.options.get("time_limit")})
        except Exception as exc:  # noqa: BLE001 - the outermost boundary: every failure gets a code
            out_of_memory = as_out_of_memory(exc)
            if out_of_memory is not None:  # returned bare: the traceback's tensors can be freed
                log.warning("job %s: %s", context.job_id, out_of_memory.details["message"])
                return out_of_memory
            log.exception("job %s failed unexpectedly", context.job_id)
            return RenderFailed(f"render failed: {type(exc).__name__}: {exc}")
        return None

    def _hand_back(self, context: JobContext, *, reason: str) -> None:
        log.info("job %s handed back: %s", context.job_id, reason)
        self._requeue(context, delay_s=0.0)
        self._close_progress(context)
        self._report(context, processing_event(
            job_id=context.job_id, attempt=context.attempt, stage=context.stage, percent=context.percent,
            message="worker stopping; the job goes to another worker"))
        context.outcome = "handed_back"

    def _run(self, context: JobContext) -> None:
        if context.rejected is not None:
            raise context.rejected
        parse_target(context.delivery.upload)  # a bad upload block fails before the render, not after
        lease = Lease.on_job(self.runtime.redis, context.job_id, ttl_s=self.settings.lease_ttl_s)
        if not lease.acquire():
            self._defer(context)
            return
        try:
            if not self._replay(context):
                context.lease_token = lease.token
                self._render_and_publish(context, lease)
        finally:
            lease.release()

    def _replay(self, context: JobContext) -> bool:
        recorded = self.runtime.results.get(context.job_id)
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
        out_dir = self.runtime.work_dir / "out" / safe_id(context.job_id)
        try:
            with LeaseKeeper(lease) as keeper:  # renewed until the result is recorded
                context.listen(lambda stage, percent: keeper.check())
                result = self.runtime.pipeline.run(context.spec, out_dir=out_dir, allow_local_files=False,
                                                   on_progress=context.progress)
                context.report = result.report
                _fence(lease)  # never upload for a job that someone else now owns
                objects = upload_artifacts(self.runtime.storage_for(context), result.artifacts,
                                           retry_s=self.runtime.storage.upload_retry_s)
                self._close_progress(context)
                self._finish(context, completed_event(job_id=context.job_id, attempt=context.attempt,
                                                      objects=objects, report=result.report),
                             lease_token=lease.token)
            context.outcome = "completed"
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _fail(self, context: JobContext, error: UGenError) -> None:
        self._close_progress(context)
        retry = context.rejected is None and should_retry(context.retries, error,
                                                          max_retries=self.settings.max_retries)
        context.outcome = "retried" if retry else "failed"
        try:
            if retry:
                self._report(context, processing_event(
                    job_id=context.job_id, attempt=context.attempt, stage=context.stage,
                    percent=context.percent, message=f"attempt {context.attempt} failed ({error.code}); retrying"))
            else:
                self._finish(context, failed_event(job_id=context.job_id, attempt=context.attempt, error=error,
                                                   stage=context.stage, percent=context.percent))
        except redis.RedisError as exc:  # the error itself still goes to Dramatiq below
            log.error("job %s: cannot record its %s: %s", context.job_id, context.outcome, exc)
        raise error

    def _finish(self, context: JobContext, body: dict[str, Any], *, lease_token: str = "") -> None:
        created, _ = self.runtime.outbox.finish(context.job_id, body, delivery_attempt=context.delivery.attempt,
                                                lease_token=lease_token)
        if not created:
            log.warning("job %s already had a result; this attempt's is not recorded", context.job_id)
        self.runtime.relay.notify(context.job_id)

    def _report(self, context: JobContext, body: dict[str, Any]) -> None:
        if context.delivery.callback_url and self.runtime.outbox.append(context.job_id, body):
            self.runtime.relay.notify(context.job_id)

    def _close_progress(self, context: JobContext) -> None:
        if context.reporter is not None:
            context.reporter.close()  # its last update is queued before the terminal event

    def _defer(self, context: JobContext) -> None:
        deferrals = int(context.message.options.get("ugen_deferrals", 0))
        if deferrals >= self.settings.max_deferrals:
            raise RenderFailed("the job stayed leased by another worker", details={"deferrals": deferrals})
        log.info("job %s is leased by another worker; looking again in %.0f s", context.job_id,
                 self.settings.lease_busy_delay_s)
        self._requeue(context, delay_s=self.settings.lease_busy_delay_s, ugen_deferrals=deferrals + 1)
        context.outcome = "deferred"

    def _requeue(self, context: JobContext, *, delay_s: float, **options: Any) -> None:
        copy = context.message.copy(options=options)
        self.broker.enqueue(copy, delay=int(delay_s * 1000) if delay_s > 0 else None)


def _fence(lease: Lease) -> None:
    if not lease.held():
        raise LeaseLost(f"lease {lease.key} is no longer ours")
