"""Cancel reaches the render: a real API process, a real worker process, Redis and SeaweedFS.

A job cancelled at about a tenth of its render stops at the worker's next progress call,
uploads nothing, ends `cancelled`, and the worker goes on to the next job."""

from __future__ import annotations

import time
import urllib.request

import pytest

from tests.api.support import ApiServer

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, worker processes, product image

pytestmark = pytest.mark.integration


def wait_for_job(client, job_id: str, done, *, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never got there; last seen {job}")


def create(account, product_url: str, *, segments: int) -> str:
    response = account.client.post("/api/v1/jobs", json={
        "product_name": "Espresso Cups", "product_image_url": product_url, "video_resolution": "draft",
        "segment_count": segments, "segment_duration": 3, "seed": 1})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def stored_keys(s3_server, bucket: str, job_id: str) -> list[str]:
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"renders/{job_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_job_cancelled_at_a_tenth_of_its_render_stops_and_uploads_nothing(
        start_worker, product_url, bucket, s3_server, new_database, api_logs):
    worker = start_worker()
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                    UGEN_QUEUE=worker.env["UGEN_QUEUE"]).start()
    try:
        account = api.new_account(credits=1000)
        job_id = create(account, product_url, segments=3)
        wait_for_job(account.client, job_id, lambda j: j["progress_percent"] >= 10, timeout_s=120)
        response = account.client.post(f"/api/v1/jobs/{job_id}/cancel")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        # The worker is single-threaded: once the next job is done, the cancelled one has ended there.
        next_id = create(account, product_url, segments=1)
        following = wait_for_job(account.client, next_id, lambda j: j["status"] in ("completed", "failed"),
                                 timeout_s=180)
        assert following["status"] == "completed", (following, worker.log()[-3000:])
        cancelled = account.client.get(f"/api/v1/jobs/{job_id}").json()
        assert (cancelled["status"], cancelled["final_video_url"], cancelled["credits_consumed"]) == (
            "cancelled", None, 0)
        assert stored_keys(s3_server, bucket, job_id) == [], "the cancelled render was uploaded"
        assert cancelled["finished_at"] is not None  # the worker acknowledged the cancel
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics").read()
        assert b'ugen_jobs_total{outcome="cancelled"} 1.0' in metrics
    finally:
        api.stop()
