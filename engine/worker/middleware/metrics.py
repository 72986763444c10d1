"""Prometheus metrics for renders, and Dramatiq's own message metrics.

    Metrics(port=9191)   # in the worker's middleware list; port 0 serves nothing
    message_metrics()    # [DramatiqMessages()] in multiprocess mode, else []

    ugen_jobs_total{outcome}                      completed, failed, retried, replayed, deferred,
                                                  handed_back, lost
    ugen_stage_duration_seconds{stage}            wall time of each U-Gen stage
    ugen_queue_wait_seconds                       enqueue (first send) to the start of this try
    ugen_render_seconds_per_video_second          render wall time / video duration
    ugen_last_progress_age_seconds                0 while idle; the stalest busy process's
    dramatiq_messages_total, dramatiq_message_errors_total, dramatiq_message_retries_total,
    dramatiq_message_rejects_total, dramatiq_messages_inprogress,
    dramatiq_message_duration_milliseconds        {queue_name, actor_name}: Dramatiq's middleware

`ugen-worker` always runs prometheus_client's multiprocess mode (engine/worker/scrape.py): the
processes write samples to a shared directory and one forked process serves their sum, so
`--processes N` has one /metrics. Started as `dramatiq engine.worker:setup` without
PROMETHEUS_MULTIPROC_DIR, each process serves its own domain metrics on the port (one process
only: a second cannot bind it) and Dramatiq's message metrics are left out.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from dramatiq import Middleware
from dramatiq.middleware.prometheus import Prometheus
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from engine.worker.middleware.job_context import current_job
from engine.worker.scrape import PROGRESS_TIMESTAMP, multiprocess_mode, serve_all_processes

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200)
WAIT_BUCKETS = (0.1, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600)
SPEED_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class Metrics(Middleware):
    def __init__(self, *, port: int, registry: CollectorRegistry = REGISTRY) -> None:
        self.port, self.registry = port, registry
        self.jobs = Counter("ugen_jobs", "Jobs by outcome", ["outcome"], registry=registry)
        self.stages = Histogram("ugen_stage_duration_seconds", "Wall time per stage", ["stage"],
                                buckets=STAGE_BUCKETS, registry=registry)
        self.queue_wait = Histogram("ugen_queue_wait_seconds", "Time from enqueue to start",
                                    buckets=WAIT_BUCKETS, registry=registry)
        self.speed = Histogram("ugen_render_seconds_per_video_second", "Render time per video second",
                               buckets=SPEED_BUCKETS, registry=registry)
        self.shared = multiprocess_mode()
        self._last_progress: float | None = None
        if self.shared:  # each process's wall-clock time of its last progress; the server ages it
            self.progress_at = Gauge(PROGRESS_TIMESTAMP, "When this process last made progress (+Inf idle)",
                                     registry=registry, multiprocess_mode="livemin")
            self.progress_at.set(math.inf)
        else:
            self.progress_age = Gauge("ugen_last_progress_age_seconds", "Seconds since the last progress",
                                      registry=registry)
            self.progress_age.set_function(self._age)

    @property
    def forks(self) -> list:
        """Dramatiq forks these beside the workers: the one server of every process's metrics."""
        return [serve_all_processes] if self.shared and self.port else []

    def after_process_boot(self, broker: Any) -> None:
        if not self.port or self.shared:
            return
        try:
            start_http_server(self.port, registry=self.registry)
            log.info("metrics on :%d/metrics", self.port)
        except OSError as exc:  # renders matter more than their metrics: go on without them
            log.error("cannot serve metrics on port %d: %s", self.port, exc)

    def before_process_message(self, broker: Any, message: Any) -> None:
        self.queue_wait.observe(max(0.0, time.time() - message.message_timestamp / 1000))
        self._progressed()
        context = current_job()
        if context is not None:
            context.listen(self._on_progress)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self._last_progress = None
        if self.shared:
            self.progress_at.set(math.inf)
        context = current_job()
        if context is None:
            return
        self.jobs.labels(context.outcome or ("failed" if exception else "completed")).inc()
        report = context.report or {}
        for stage, timing in (report.get("stages") or {}).items():
            self.stages.labels(stage).observe(timing["wall_s"])
        if report.get("video_duration_s") and report.get("total_wall_s"):
            self.speed.observe(report["total_wall_s"] / report["video_duration_s"])

    after_skip_message = after_process_message

    def _on_progress(self, stage: str, percent: float) -> None:
        self._progressed()

    def _progressed(self) -> None:
        self._last_progress = time.monotonic()
        if self.shared:
            self.progress_at.set(time.time())

    def _age(self) -> float:
        return 0.0 if self._last_progress is None else time.monotonic() - self._last_progress


class DramatiqMessages(Prometheus):
    """Dramatiq's message metrics, written to the multiprocess directory and served with ours
    (its own server, on dramatiq_prom_port, is not started)."""

    @property
    def forks(self) -> list:
        return []


def message_metrics() -> list[Middleware]:
    """Dramatiq's middleware only where its samples reach a scrape: in multiprocess mode."""
    return [DramatiqMessages()] if multiprocess_mode() else []
