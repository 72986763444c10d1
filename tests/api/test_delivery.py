"""A real worker's events reach a real API however the path between them breaks: a retry whose
event numbers started again (Redis lost them, or they expired), a worker whose clock is 400 s
off, and an API that answers with the wrong callback secret until the right one is back."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from engine.worker.idempotency import JobKeys, ResultStore
from tests.api.support import ApiServer

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, worker processes, product image

pytestmark = pytest.mark.integration
SKEWED_CLOCK_DIR = Path(__file__).resolve().parents[1] / "support" / "skewed_clock"
RENDER_TIMEOUT_S = 240


def job_request(product_url: str) -> dict:
    return {"product_name": "Espresso Cups", "product_image_url": product_url, "video_resolution": "draft",
            "segment_count": 1, "segment_duration": 3, "persona_id": "grace", "seed": 1}


def wait_for_status(client: httpx.Client, job_id: str, wanted: str, *, timeout_s: float) -> dict:
    deadline, seen = time.monotonic() + timeout_s, []
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if not seen or seen[-1] != (job["status"], job["current_stage"]):
            seen.append((job["status"], job["current_stage"]))
        if job["status"] == wanted:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} is not {wanted} after {timeout_s} s; seen {seen}")


def wait_for_result(redis_client, job_id: str, *, timeout_s: float) -> dict:
    """The result the worker recorded (its terminal event), once there is one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (result := ResultStore(redis_client).get(job_id)) is not None:
            return result.event
        time.sleep(0.5)
    raise AssertionError(f"the worker recorded no result for job {job_id} in {timeout_s} s")


def queued_events(redis_client, job_id: str) -> list[dict]:
    return [json.loads(raw) for raw in redis_client.lrange(JobKeys(job_id).events, 0, -1)]


def refused_count(worker) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics").read().decode()
    return sum(float(v) for v in re.findall(r'^ugen_events_refused_total\{[^}]*\} ([0-9.]+)$', text, re.M))


@pytest.fixture
def api_for(new_database, api_logs):
    """api_for(worker, **env) -> a running API on the worker's broker and queue; stopped on teardown."""
    started: list[ApiServer] = []

    def start(worker, **env: str) -> ApiServer:
        api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                        UGEN_QUEUE=worker.env["UGEN_QUEUE"], **env)
        started.append(api)
        return api.start()

    yield start
    for api in started:
        api.stop()


def fail_first_attempt(start_worker, s3_proxy, api_for, product_url: str, **worker_env: str):
    """A job whose first attempt rendered twice (one Dramatiq retry) and failed to upload both
    times, so it sent about twice the events a successful attempt sends."""
    worker = start_worker(UGEN_UPLOAD_RETRY_S="1", UGEN_MAX_RETRIES="1", **worker_env)
    api = api_for(worker, UGEN_API_SWEEP_INTERVAL_S="1", UGEN_API_REQUEUE_AFTER_S="5")
    account = api.new_account(credits=1000)
    s3_proxy.failing = True
    job_id = account.client.post("/api/v1/jobs", json=job_request(product_url)).json()["job_id"]
    failed = wait_for_status(account.client, job_id, "failed", timeout_s=2 * RENDER_TIMEOUT_S)
    assert failed["error"]["code"] == "STORAGE_UNAVAILABLE", failed
    s3_proxy.failing = False
    return account, job_id


def assert_retry_completes(account, job_id: str, bucket: str) -> None:
    assert account.client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
    job = wait_for_status(account.client, job_id, "completed", timeout_s=RENDER_TIMEOUT_S)
    # Objects live under the committing lease's token (fenced uploads): renders/<job>/<token>/.
    assert re.search(rf"/{bucket}/renders/{job_id}/[0-9a-f]+/final\.mp4$", job["final_video_url"]), job
    assert (job["progress_percent"], job["credits_reserved"], job["error"]) == (100, 0, None)
    balance = account.client.get("/api/v1/credits/balance").json()
    assert balance["credit_reserved"] == 0 and balance["credit_balance"] == 1000 - job["credits_consumed"]


def test_a_retry_after_redis_lost_the_event_numbers_is_completed(
        start_worker, s3_proxy, api_for, product_url, redis_client, bucket):
    account, job_id = fail_first_attempt(start_worker, s3_proxy, api_for, product_url)
    redis_client.flushdb()  # Redis restarted without persistence: the worker numbers from 1 again
    assert_retry_completes(account, job_id, bucket)


def test_a_retry_after_the_workers_event_numbers_expired_is_completed(
        start_worker, s3_proxy, api_for, product_url, redis_client, bucket):
    # The numbering lives as long as the outbox: 8 s here, 7 days by default.
    account, job_id = fail_first_attempt(start_worker, s3_proxy, api_for, product_url, UGEN_OUTBOX_TTL_S="8")
    deadline = time.monotonic() + 30
    while redis_client.exists(JobKeys(job_id).state) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not redis_client.exists(JobKeys(job_id).state), "the worker's event numbering did not expire"
    assert ResultStore(redis_client).get(job_id) is not None  # the failed result outlives it
    assert_retry_completes(account, job_id, bucket)


def test_a_worker_whose_clock_is_400_s_off_keeps_its_result_until_a_worker_with_a_true_clock_delivers_it(
        start_worker, api_for, product_url, redis_client, worker_env):
    skewed = start_worker(PYTHONPATH=f"{SKEWED_CLOCK_DIR}:{worker_env.get('PYTHONPATH', '')}",
                          UGEN_TEST_CLOCK_OFFSET_S="-400")
    api = api_for(skewed, UGEN_API_REQUEUE_AFTER_S="3600")
    account = api.new_account(credits=1000)
    job_id = account.client.post("/api/v1/jobs", json=job_request(product_url)).json()["job_id"]
    result = wait_for_result(redis_client, job_id, timeout_s=RENDER_TIMEOUT_S)
    assert result["status"] == "completed", result
    time.sleep(3)  # several refused tries
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"
    assert [e["status"] for e in queued_events(redis_client, job_id)] == ["completed"], \
        "the refused terminal event was not kept for a later try"
    assert refused_count(skewed) > 0
    skew = re.search(r"timestamp is (-?\d+) s from this server's clock", api.log())
    assert skew and -410 <= int(skew.group(1)) <= -390, api.log()[-2000:]
    skewed.kill()
    start_worker()  # its relay picks up every due job's events, this one's too
    job = wait_for_status(account.client, job_id, "completed", timeout_s=30)
    assert job["final_video_url"] == result["final_video_url"]


def test_events_refused_by_an_api_with_another_secret_arrive_once_the_right_one_is_back(
        start_worker, worker_env, new_database, api_logs, product_url, redis_client):
    database, env = new_database(), {"UGEN_BROKER_URL": worker_env["UGEN_BROKER_URL"],
                                     "UGEN_QUEUE": worker_env["UGEN_QUEUE"], "UGEN_API_REQUEUE_AFTER_S": "3600"}
    right = ApiServer(database, api_logs, **env).start()
    wrong = ApiServer(database, api_logs, port=right.port, **env)  # the same address, another secret
    try:
        account = right.new_account(credits=1000)
        job_id = account.client.post("/api/v1/jobs", json=job_request(product_url)).json()["job_id"]
        right.stop()
        wrong.start()
        worker = start_worker()
        result = wait_for_result(redis_client, job_id, timeout_s=RENDER_TIMEOUT_S)
        time.sleep(3)  # several refused tries
        assert [e["status"] for e in queued_events(redis_client, job_id)] == ["completed"], \
            "the refused terminal event was not kept for a later try"
        assert refused_count(worker) > 0 and "bad_signature" in wrong.log()
        wrong.stop()
        right.start()
        client = right.client(**{"X-API-Key": account.key})
        job = wait_for_status(client, job_id, "completed", timeout_s=30)
        assert job["final_video_url"] == result["final_video_url"]
        assert queued_events(redis_client, job_id) == []
    finally:
        wrong.stop()
        right.stop()
