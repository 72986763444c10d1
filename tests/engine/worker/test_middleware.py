"""The worker's policies in isolation: retries, time limits, one render at a time, liveness,
work-dir cleanup, log redaction, and the enqueue script against real Redis."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from dramatiq import Message

from engine.errors import ProductImageInvalid, RenderFailed, StorageError
from engine.settings import REPO_ROOT
from engine.spec import STAGES
from engine.worker import broker_from_url, send_job
from engine.worker.middleware.liveness import check_liveness
from engine.worker.middleware.log_redaction import _Redact
from engine.worker.middleware.single_render import SingleRender
from engine.worker.runner import should_retry
from engine.worker.runtime import prepare_work_dir
from engine.worker.settings import WorkerSettings
from tests.support.jobs import REDIS_URL, make_job
from tests.support.servers import terminal

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API


def test_only_transient_errors_are_retried_and_only_up_to_the_limit():
    assert should_retry(0, StorageError("down"), max_retries=3)
    assert should_retry(2, RenderFailed("?"), max_retries=3)
    assert not should_retry(3, StorageError("down"), max_retries=3)
    assert not should_retry(0, ProductImageInvalid("not an image"), max_retries=3)
    assert not should_retry(0, KeyboardInterrupt(), max_retries=3)


def test_time_limits_grow_with_the_video_and_stay_below_rabbitmq_consumer_timeout():
    settings = WorkerSettings()
    assert settings.time_limit_s(video_s=6) < settings.time_limit_s(video_s=60)
    assert settings.time_limit_s(video_s=100) <= 25 * 60 < 30 * 60
    assert settings.max_backoff_s < 30 * 60


def test_a_worker_started_with_many_threads_still_renders_one_job_at_a_time():
    worker = SimpleNamespace(worker_threads=8, queue_prefetch=16)
    SingleRender().before_worker_boot(None, worker)
    assert (worker.worker_threads, worker.queue_prefetch) == (1, 1)


def write_liveness(directory: Path, **state) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{state['pid']}.json").write_text(json.dumps(state))


def test_liveness_fails_when_a_busy_worker_has_made_no_progress_for_too_long(tmp_path):
    now = time.time()
    write_liveness(tmp_path, pid=os.getpid(), busy=True, job_id="j", last_progress=now - 10, stall_s=300)
    assert check_liveness(tmp_path, now=now)[0]
    alive, why = check_liveness(tmp_path, now=now + 400)
    assert not alive and "no progress" in why


def test_liveness_ignores_files_of_dead_processes_and_fails_with_no_live_worker(tmp_path):
    write_liveness(tmp_path, pid=2**22 + 12345, busy=True, job_id="j", last_progress=0, stall_s=1)
    assert not check_liveness(tmp_path)[0]


def test_a_booting_worker_removes_what_crashed_workers_left_behind(tmp_path):
    import socket

    dead = tmp_path / f"ugen-worker-{socket.gethostname()}-{2**22 + 4242}"
    (dead / "render" / "ugen-job-abc").mkdir(parents=True)
    old_render = tmp_path / "ugen-job-old"
    old_render.mkdir()
    os.utime(old_render, (time.time() - 7200, time.time() - 7200))
    fresh_render = tmp_path / "ugen-job-fresh"
    fresh_render.mkdir()
    mine = prepare_work_dir(tmp_path, stale_s=3600)
    assert not dead.exists() and not old_render.exists() and fresh_render.exists()
    assert mine.name.endswith(f"-{os.getpid()}") and mine.is_dir()


def test_log_lines_about_a_message_never_show_its_callback_secret():
    message = Message(queue_name="renders", actor_name="render_job", kwargs={}, options={},
                      args=({"job_id": "j1", "delivery": {"callback_secret": "hunter2"}},))
    record = logging.LogRecord("dramatiq", logging.ERROR, __file__, 1, "Failed to process %s.", (message,), None)
    _Redact().filter(record)
    assert "hunter2" not in record.getMessage() and "j1" in record.getMessage()


def test_the_enqueue_script_sends_a_valid_job_and_refuses_an_invalid_one(tmp_path, redis_client):
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"product_name": "Cups", "product_image_url": "https://example.com/c.png",
                                "segment_count": 1}))
    script = [sys.executable, str(REPO_ROOT / "scripts" / "enqueue_job.py"), "--broker", REDIS_URL,
              "--queue", "enqueue-test", "--callback-url", "https://api.example/cb", "--attempt", "2"]
    done = subprocess.run([*script, str(spec)], capture_output=True, text=True, timeout=60, check=True)
    sent = json.loads(done.stdout)
    raw = redis_client.hvals("dramatiq:enqueue-test.msgs")
    body = json.loads(raw[0])
    assert body["actor_name"] == "render_job" and body["message_id"] == sent["message_id"]
    assert body["args"][0]["delivery"] == {"callback_url": "https://api.example/cb", "attempt": 2}
    redis_client.delete("dramatiq:enqueue-test", "dramatiq:enqueue-test.msgs")
    spec.write_text(json.dumps({"product_name": "Cups"}))
    refused = subprocess.run([*script, str(spec)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "INVALID_JOB_SPEC" in refused.stderr


@pytest.mark.integration
def test_a_worker_with_ugen_log_format_json_writes_its_lines_as_json_with_the_jobs_fields(
        start_worker, api, product_url):
    worker = start_worker(UGEN_LOG_FORMAT="json")
    job = make_job(product_url.replace("espresso_cup.png", "gone.png"), api)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    api.wait_for(terminal, job_id=job["job_id"], timeout_s=60)
    deadline = time.monotonic() + 10
    while job["job_id"] not in worker.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    # The dramatiq supervisor's own few lines (booting, stopping) stay text; its workers' are JSON.
    lines = [json.loads(ln) for ln in worker.log().splitlines() if ln.startswith("{")]
    assert any("ready for action" in line["message"] and line["job_id"] is None for line in lines)
    mine = [line for line in lines if line["job_id"] == job["job_id"]]
    assert mine and all(line["attempt"] == 1 and line["stage"] in STAGES for line in mine)
    assert not [ln for ln in worker.log().splitlines() if "Worker process is ready" in ln
                and not ln.startswith("{")]
