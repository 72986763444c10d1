"""One Prometheus endpoint for every process of a worker, and what is read at scrape time.

    run_dir = prepare_run_dir(None)        # ugen-worker, before exec: a fresh, empty directory
    env = multiprocess_env(run_dir)        # PROMETHEUS_MULTIPROC_DIR, dramatiq_prom_db, slots
    serve_all_processes()                  # the Dramatiq fork that serves :$UGEN_METRICS_PORT/metrics

`ugen-worker --processes N` runs prometheus_client's multiprocess mode: each worker process
writes its samples to files in <run dir>/metrics (the directory is made empty at every start,
as the library requires), and one extra process, forked by Dramatiq beside the workers, serves
their sum on the metrics port. At scrape time it also reads Redis for the event outbox
(`ugen_outbox_jobs`: jobs with events not yet delivered, `ugen_outbox_dead_letters`) and turns
each process's last-progress time into `ugen_last_progress_age_seconds` (the stalest busy one).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from engine.worker.refusals import DEAD
from engine.worker.settings import WorkerSettings

log = logging.getLogger(__name__)

MULTIPROC_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "dramatiq_prom_db")
SLOTS_VARIABLE = "UGEN_WORKER_SLOTS_DIR"
OUTBOX_PENDING = "ugen:outbox"  # engine/worker/outbox.py's PENDING
PROGRESS_TIMESTAMP = "ugen_last_progress_timestamp_seconds"


def prepare_run_dir(given: str | None) -> Path:
    """`given` emptied (an operator's PROMETHEUS_MULTIPROC_DIR), else a new temporary one."""
    if not given:
        return Path(tempfile.mkdtemp(prefix="ugen-worker-"))
    root = Path(given)
    for child in root.iterdir() if root.is_dir() else ():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def multiprocess_env(run_dir: Path) -> dict[str, str]:
    (run_dir / "slots").mkdir(exist_ok=True)
    return {**dict.fromkeys(MULTIPROC_VARIABLES, str(run_dir)), SLOTS_VARIABLE: str(run_dir / "slots")}


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class ScrapeTimeCollector:
    """The per-process samples summed, with the progress timestamps turned into one age, and
    the outbox's depth read from Redis."""

    def __init__(self, redis_url: str) -> None:
        self.processes = MultiProcessCollector(None)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)

    def collect(self) -> Iterator[Metric]:
        for metric in self.processes.collect():
            if metric.name == PROGRESS_TIMESTAMP:
                yield progress_age(metric)
            else:
                yield metric
        yield from self._outbox()

    def _outbox(self) -> Iterator[Metric]:
        try:
            pending, dead = self.redis.zcard(OUTBOX_PENDING), self.redis.llen(DEAD)
        except redis.RedisError as exc:  # the scrape still shows the renders
            log.warning("metrics: cannot read the outbox depth: %s", exc)
            return
        yield GaugeMetricFamily("ugen_outbox_jobs", "Jobs whose events are not all delivered yet", value=pending)
        yield GaugeMetricFamily("ugen_outbox_dead_letters", "Terminal events on the dead-letter list", value=dead)


def progress_age(timestamps: Metric, now: float | None = None) -> Metric:
    """Seconds since the oldest last progress of a busy process; 0 when every process is idle
    (an idle process reports +inf, a dead one is left out by the gauge's live mode)."""
    now = time.time() if now is None else now
    busy = [s.value for s in timestamps.samples if math.isfinite(s.value)]
    return GaugeMetricFamily("ugen_last_progress_age_seconds", "Seconds since the last progress",
                             value=max(0.0, now - min(busy)) if busy else 0.0)


def serve_all_processes() -> int:
    """A Dramatiq fork function: serve every worker process's metrics until stopped."""
    settings = WorkerSettings.from_env()
    registry = CollectorRegistry()
    registry.register(ScrapeTimeCollector(settings.redis_url))
    try:
        start_http_server(settings.metrics_port, registry=registry)
    except OSError as exc:  # renders matter more than their metrics: the workers go on without them
        log.error("cannot serve metrics on port %d: %s", settings.metrics_port, exc)
        return 1
    log.info("metrics of all worker processes on :%d/metrics", settings.metrics_port)
    while True:
        time.sleep(3600)
