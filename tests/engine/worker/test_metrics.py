"""Metrics of a worker with two processes: one /metrics sums both, Dramatiq's message metrics and
the outbox's depth are there, and each process was given its own GPU slot."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict

from engine.worker import broker_from_url, send_job
from tests.support.jobs import make_job
from tests.support.servers import terminal

pytest_plugins = ["tests.support.fixtures"]

pytestmark = pytest.mark.integration


def scrape(worker) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics", timeout=10).read().decode()


def sample(text: str, name: str, labels: str = "") -> float | None:
    found = re.search(rf"^{re.escape(name + labels)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else None


def completed_by_process(metrics_dir: Path) -> dict[str, float]:
    """ugen_jobs_total{outcome="completed"} as each process wrote it to its own file."""
    per_pid = {}
    for path in metrics_dir.glob("counter_*.db"):
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == "ugen_jobs_total" and labels == {"outcome": "completed"}:
                per_pid[path.stem.removeprefix("counter_")] = value
    return per_pid


def test_a_two_process_worker_serves_one_scrape_that_sums_both_processes(
        start_worker, api, product_url, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left over from an earlier start")  # must be cleared
    worker = start_worker(UGEN_WORKER_PROCESSES="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                          CUDA_VISIBLE_DEVICES="3,5")
    jobs = [make_job(product_url, api) for _ in range(2)]
    broker = broker_from_url(worker.env["UGEN_BROKER_URL"])
    for job in jobs:  # both at once: each process takes one (one thread, prefetch 1)
        send_job(broker, job, queue=worker.env["UGEN_QUEUE"])
    for job in jobs:
        events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=180)
        assert events[-1]["status"] == "completed", events[-1]
    # The count is taken after the job's message is done, a moment after its terminal event
    # can reach the API: wait for both before reading the files.
    deadline = time.monotonic() + 15
    while sample(text := scrape(worker), "ugen_jobs_total", '{outcome="completed"}') != 2.0 \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(completed_by_process(metrics_dir).values()) == [1.0, 1.0]  # one job in each process
    assert sample(text, "ugen_jobs_total", '{outcome="completed"}') == 2.0
    assert sample(text, "ugen_stage_duration_seconds_count", '{stage="generation"}') == 2.0
    labels = f'{{actor_name="render_job",queue_name="{worker.env["UGEN_QUEUE"]}"}}'
    assert sample(text, "dramatiq_messages_total", labels) == 2.0
    assert sample(text, "dramatiq_message_duration_milliseconds_count", labels) == 2.0
    assert sample(text, "dramatiq_messages_inprogress", labels) == 0.0
    assert sample(text, "ugen_outbox_jobs") is not None and sample(text, "ugen_outbox_dead_letters") is not None
    assert sample(text, "ugen_last_progress_age_seconds") == 0.0  # both idle now
    assert not (metrics_dir / "counter_1.db").exists()  # cleared at start
    log = worker.log()
    assert "worker slot 0 of 2: CUDA_VISIBLE_DEVICES=3" in log
    assert "worker slot 1 of 2: CUDA_VISIBLE_DEVICES=5" in log
