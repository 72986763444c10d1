"""Prometheus metrics for renders, served by each worker process.

    Metrics(port=9191)   # in the worker's middleware list; port 0 serves nothing

    ugen_jobs_total{outcome}                      completed, failed, retried, replayed, deferred,
                                                  handed_back, lost
    ugen_stage_duration_seconds{stage}            wall time of each U-Gen stage
    ugen_queue_wait_seconds                       enqueue (first send) to the start of this try
    ugen_render_seconds_per_video_second          render wall time / video duration
    ugen_last_progress_age_seconds                0 while idle; what the liveness probe checks

One process per GPU container (the default) needs no multiprocess collector; with more
processes, give each its own port.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dramatiq import Middleware
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from engine.worker.middleware.job_context import current_job

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
        self.progress_age = Gauge("ugen_last_progress_age_seconds", "Seconds since the last progress",
                                  registry=registry)
        self._last_progress: float | None = None
        self.progress_age.set_function(self._age)

    def after_process_boot(self, broker: Any) -> None:
        if not self.port:
            return
        try:
            start_http_server(self.port, registry=self.registry)
            log.info("metrics on :%d/metrics", self.port)
        except OSError as exc:  # renders matter more than their metrics: go on without them
            log.error("cannot serve metrics on port %d: %s", self.port, exc)

    def before_process_message(self, broker: Any, message: Any) -> None:
        self.queue_wait.observe(max(0.0, time.time() - message.message_timestamp / 1000))
        self._last_progress = time.monotonic()
        context = current_job()
        if context is not None:
            context.listen(self._on_progress)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self._last_progress = None
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
        self._last_progress = time.monotonic()

    def _age(self) -> float:
        return 0.0 if self._last_progress is None else time.monotonic() - self._last_progress
