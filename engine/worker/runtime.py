"""What a worker process holds for all its jobs: Redis, the outbox and relay, the models, S3.

    runtime = Runtime(settings, settings.storage)   # opens nothing yet
    runtime.boot()          # once per process, after the fork: Redis, models, relay
    runtime.storage_for(context)                     # where this job's files go

`prepare_work_dir` gives the process a work dir of its own after removing what crashed workers
on this host left behind.
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

from engine.catalog import Catalog
from engine.settings import Settings
from engine.spec import JobSpec, parse_job
from engine.worker.idempotency import ResultStore
from engine.worker.middleware.job_context import JobContext
from engine.worker.middleware.liveness import pid_alive
from engine.worker.outbox import Outbox, Relay
from engine.worker.settings import WorkerSettings, describe
from engine.worker.storage import StorageSettings, make_s3_client, parse_target, storage_for

log = logging.getLogger(__name__)
PipelineFactory = Callable[[Settings, Catalog], Any]


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
        log.info("%s", describe(s, self.storage))

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

    def storage_for(self, context: JobContext, *, lease_token: str = "") -> Any:
        """Where this job's files go: under `lease_token`'s own keys, so only the lease holder's
        commit can make them the job's result."""
        target = parse_target(context.delivery.upload)
        wants_s3 = target.kind == "s3" or (target.kind == "default" and self.storage.kind == "s3")
        return storage_for(context.job_id, context.delivery.upload, settings=self.storage,
                           s3_client=self.s3_client() if wants_s3 else None, lease_token=lease_token)


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
