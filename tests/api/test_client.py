"""The typed client (api/client.py) against a real server: create with an idempotency key, get,
list with paging, cancel, estimate, errors in U-Gen's shape, and webhook signatures checked on
what the API really sends."""

from __future__ import annotations

import dataclasses
import secrets

import pytest

from api.client import ApiRequestError, InvalidSignature, Job, UGenClient, verify_webhook
from api.schemas import JobOut
from tests.api.support import ApiServer, WebhookReceiver, completed, job_body


@pytest.fixture
def ugen(server: ApiServer):
    account = server.new_account(credits=5000, max_concurrent_jobs=20)
    with UGenClient(server.url, api_key=account.key) as client:
        yield client


def test_the_clients_job_fields_are_the_apis():
    assert {f.name for f in dataclasses.fields(Job)} - {"replayed", "data"} <= set(JobOut.model_fields)


def test_a_job_is_created_once_per_idempotency_key_and_read_back(ugen: UGenClient):
    job = ugen.create_job(job_body(), idempotency_key="order-1042")
    assert (job.status, job.replayed, job.idempotency_key, job.credits_reserved) == ("queued", False, "order-1042", 70)
    again = ugen.create_job(job_body(), idempotency_key="order-1042")
    assert (again.job_id, again.replayed) == (job.job_id, True)
    with pytest.raises(ApiRequestError) as conflict:
        ugen.create_job(job_body(segment_count=3), idempotency_key="order-1042")
    assert (conflict.value.status, conflict.value.code) == (409, "IDEMPOTENCY_CONFLICT")
    assert conflict.value.details == {"idempotency_key": "order-1042", "job_id": job.job_id}
    assert ugen.get_job(job.job_id).config["product_name"] == "Espresso Cups"


def test_the_list_pages_and_iterates_every_job_newest_first(ugen: UGenClient):
    ids = [ugen.create_job(job_body()).job_id for _ in range(5)]
    page = ugen.list_jobs(page=2, page_size=2)
    assert (page.total, page.page, page.page_size, page.total_pages) == (5, 2, 2, 3)
    assert [j.job_id for j in page.items] == ids[::-1][2:4]
    assert [j.job_id for j in ugen.iter_jobs(page_size=2)] == ids[::-1]
    ugen.cancel_job(ids[0])
    assert [j.job_id for j in ugen.iter_jobs(status="cancelled")] == [ids[0]]


def test_cancel_estimate_and_errors_take_u_gens_shapes(ugen: UGenClient):
    job = ugen.create_job(job_body())
    cancelled = ugen.cancel_job(job.job_id)
    assert (cancelled.status, cancelled.finished, cancelled.credits_reserved) == ("cancelled", True, 0)
    with pytest.raises(ApiRequestError) as twice:
        ugen.cancel_job(job.job_id)
    assert (twice.value.status, twice.value.code) == (409, "JOB_NOT_CANCELLABLE")
    estimate = ugen.estimate(job_body())
    assert (estimate.total_credits, estimate.available_credits) == (70, 5000)
    assert sum(estimate.breakdown.values()) == 70
    with pytest.raises(ApiRequestError) as invalid:
        ugen.create_job({"product_name": "test"})
    assert (invalid.value.status, invalid.value.code) == (422, "VALIDATION_ERROR")
    assert {"type": "missing", "loc": ["body", "product_image_url"], "msg": "Field required",
            "input": {"product_name": "test"}} in invalid.value.details["detail"]
    with pytest.raises(ApiRequestError) as missing:
        ugen.get_job("00000000-0000-0000-0000-000000000000")
    assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")


def test_wait_returns_the_finished_job_and_times_out_on_one_still_running(server: ApiServer, ugen: UGenClient):
    job = ugen.create_job(job_body())
    with pytest.raises(TimeoutError):
        ugen.wait(job.job_id, timeout_s=0.3, poll_s=0.1)
    server.post_event(completed(job.job_id, 1))
    done = ugen.wait(job.job_id, timeout_s=10, poll_s=0.1)
    assert (done.status, done.final_video_url) == ("completed", f"https://cdn.example/renders/{job.job_id}/final.mp4")


def test_a_webhook_the_api_sent_verifies_and_a_forged_altered_or_stale_one_does_not(server: ApiServer):
    account = server.new_account(credits=1000)
    hooks = WebhookReceiver(secrets.token_hex(32)).start()
    try:
        account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": hooks.url, "webhook_secret": hooks.secret})
        with UGenClient(server.url, api_key=account.key) as ugen:
            job = ugen.create_job(job_body())
        server.post_event(completed(job.job_id, 1))
        [delivery] = hooks.wait_for(1, timeout_s=15)
    finally:
        hooks.stop()
    payload = verify_webhook(hooks.secret, delivery.headers, delivery.raw)
    assert (payload["event"], payload["job_id"]) == ("job.completed", job.job_id)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_webhook("another-secret", delivery.headers, delivery.raw)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_webhook(hooks.secret, delivery.headers, delivery.raw.replace(b"completed", b"failed"))
    with pytest.raises(InvalidSignature, match="more than 300 s"):
        verify_webhook(hooks.secret, delivery.headers, delivery.raw,
                       now_s=int(delivery.headers["x-ugen-timestamp"]) + 301)
    unsigned = {k: v for k, v in delivery.headers.items() if k != "x-ugen-signature"}
    with pytest.raises(InvalidSignature, match="not signed"):
        verify_webhook(hooks.secret, unsigned, delivery.raw)
