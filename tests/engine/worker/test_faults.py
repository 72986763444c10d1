"""Faults, each with nothing lost and nothing duplicated: a worker killed mid-render, the API
down for the middle of a job (and the worker restarted meanwhile), storage failing then
recovering, the same job enqueued twice, SIGTERM during a render."""

from __future__ import annotations

import re
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from engine.worker import broker_from_url, send_job
from engine.worker.idempotency import ResultStore
from tests.support.jobs import make_job
from tests.support.servers import EventRecorder, terminal

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API

pytestmark = pytest.mark.integration
RENDER_TIMEOUT_S = 180


def send(worker, job: dict) -> None:
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])


def reached(stage: str, min_percent: float = 0.0):
    return lambda events: any(e["current_stage"] == stage and e["progress_percent"] >= min_percent
                              for e in events)


def completed(events: list[dict]) -> list[dict]:
    return [e for e in events if e["status"] == "completed"]


def assert_exactly_once(api: EventRecorder, job_id: str, s3_proxy, bucket: str) -> list[dict]:
    """One completed event, last; no failure; seq and percent never go back; one upload each."""
    events = api.for_job(job_id)
    assert len(completed(events)) == 1 and events[-1]["status"] == "completed", events[-3:]
    assert not [e for e in events if e["status"] == "failed"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), seqs
    percents = [e["progress_percent"] for e in events]
    assert percents == sorted(percents), percents
    for name in ("final.mp4", "thumbnail.jpg", "captions.vtt"):  # under the committing lease's keys
        assert s3_proxy.writes(f"/{bucket}/{events[-1]['objects'][name]['key']}") == 1, name
    assert not api.bad_signatures
    return events


def worker_dirs(work_root: Path) -> set[str]:
    return {p.name for p in work_root.glob("ugen-worker-*")}


def test_a_worker_killed_mid_render_is_replaced_and_the_job_completes_exactly_once(
        start_worker, api, product_url, bucket, s3_proxy):
    first = start_worker()
    job = make_job(product_url, api, segments=2)
    send(first, job)
    api.wait_for(reached("init"), job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    work_root = Path(first.env["UGEN_WORK_ROOT"])
    crashed = worker_dirs(work_root)
    first.kill()
    assert crashed and not completed(api.for_job(job["job_id"]))
    second = start_worker()
    api.wait_for(terminal, job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    assert_exactly_once(api, job["job_id"], s3_proxy, bucket)
    assert not crashed & worker_dirs(work_root), "the crashed attempt's files are still there"
    assert second.alive


def test_events_held_while_the_api_is_down_and_the_worker_restarts_arrive_in_order_later(
        start_worker, api, product_url, bucket, s3_proxy, redis_client):
    first = start_worker()
    job = make_job(product_url, api)
    send(first, job)
    api.wait_for(reached("prepare"), job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    api.go_down()
    results = ResultStore(redis_client)
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while results.get(job["job_id"]) is None:  # the job finishes while nobody listens
        assert time.monotonic() < deadline, first.log()[-3000:]
        time.sleep(0.2)
    first.kill()  # with the terminal event still undelivered
    api.come_up()
    start_worker()
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=60)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), f"an event was lost: {seqs}"
    assert_exactly_once(api, job["job_id"], s3_proxy, bucket)


def test_storage_failing_then_recovering_retries_the_job_and_uploads_once(
        start_worker, api, product_url, bucket, s3_proxy):
    # The outage outlasts the in-job upload retries, so the job goes through a Dramatiq retry.
    worker = start_worker(UGEN_UPLOAD_RETRY_S="2")
    s3_proxy.failing = True
    job = make_job(product_url, api)
    send(worker, job)
    retrying = lambda events: any("retrying" in e["message"] for e in events)  # noqa: E731
    events = api.wait_for(retrying, job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    assert "STORAGE_UNAVAILABLE" in events[-1]["message"] and s3_proxy.refused > 0
    s3_proxy.failing = False
    api.wait_for(terminal, job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    events = assert_exactly_once(api, job["job_id"], s3_proxy, bucket)
    assert events[-1]["attempt"] == 2
    assert api.secret not in worker.log()  # the failure was logged without the job's secret


def outcomes(workers) -> Counter:
    """Jobs by outcome over the workers, from their Prometheus endpoints."""
    counts: Counter = Counter()
    for worker in workers:
        text = urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics").read()
        for outcome, value in re.findall(r'ugen_jobs_total\{outcome="(\w+)"\} ([0-9.]+)', text.decode()):
            counts[outcome] += int(float(value))
    return counts


def test_the_same_job_enqueued_twice_renders_once_and_reports_the_same_result(
        start_worker, api, product_url, bucket, s3_proxy):
    workers = [start_worker(), start_worker()]  # both on the same queue
    job = make_job(product_url, api)
    send(workers[0], job)
    send(workers[0], job)
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while outcomes(workers)["completed"] + outcomes(workers)["replayed"] < 2:
        assert time.monotonic() < deadline, outcomes(workers)
        time.sleep(0.2)
    assert outcomes(workers)["completed"] == 1  # the other copy waited for the lease, then replayed
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=30)
    time.sleep(1.0)  # a replayed terminal event, if one went out again, has arrived by now
    final = completed(api.for_job(job["job_id"]))
    assert all(e == final[0] for e in final)  # the same result, same seq: the API sees a repeat
    assert sum(1 for e in events if e["current_stage"] == "prepare") == 1  # rendered once
    for name in ("final.mp4", "thumbnail.jpg", "captions.vtt"):
        assert s3_proxy.writes(f"/{bucket}/{final[0]['objects'][name]['key']}") == 1


def test_sigterm_during_a_render_hands_the_job_back_within_the_grace(
        start_worker, api, product_url, bucket, s3_proxy):
    first = start_worker(UGEN_SHUTDOWN_GRACE_S="3")
    job = make_job(product_url, api, segments=2)
    send(first, job)
    api.wait_for(reached("init"), job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    stopped_at = time.monotonic()
    first.terminate()
    assert first.wait(timeout_s=60) == 0
    assert time.monotonic() - stopped_at < 3 + 15  # the grace, plus process exit on a busy machine
    assert not completed(api.for_job(job["job_id"]))
    start_worker()
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    handed_back = [e["seq"] for e in events if "another worker" in e["message"]]
    assert handed_back and handed_back[0] < events[-1]["seq"]
    assert_exactly_once(api, job["job_id"], s3_proxy, bucket)


def test_sigterm_with_time_to_spare_lets_the_render_finish_before_the_worker_exits(
        start_worker, api, product_url, bucket, s3_proxy):
    worker = start_worker(UGEN_SHUTDOWN_GRACE_S="120")
    job = make_job(product_url, api, segments=2)
    send(worker, job)
    api.wait_for(reached("init"), job_id=job["job_id"], timeout_s=RENDER_TIMEOUT_S)
    worker.terminate()
    assert worker.wait(timeout_s=RENDER_TIMEOUT_S) == 0
    api.wait_for(terminal, job_id=job["job_id"], timeout_s=30)
    assert_exactly_once(api, job["job_id"], s3_proxy, bucket)
