"""Job limits per account: jobs at once and jobs per UTC day, as 429s with Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.support import ApiServer, event, job_body


def test_the_concurrent_limit_answers_429_with_retry_after_until_a_job_ends(server: ApiServer):
    account = server.new_account(max_concurrent_jobs=2)
    first, _ = (account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2))
    response = account.client.post("/api/v1/jobs", json=job_body())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json() == {"error": {
        "code": "RATE_LIMITED", "message": "Concurrent job limit reached (2 queued or processing)",
        "details": {"limit_type": "concurrent", "limit": 2, "retry_after": 30}}}
    account.client.post(f"/api/v1/jobs/{first}/cancel")
    assert account.client.post("/api/v1/jobs", json=job_body()).status_code == 201


def test_the_daily_limit_counts_cancelled_jobs_and_waits_until_utc_midnight(server: ApiServer):
    account = server.new_account(daily_job_limit=2)
    for _ in range(2):
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        account.client.post(f"/api/v1/jobs/{job_id}/cancel")
    response = account.client.post("/api/v1/jobs", json=job_body())
    now = datetime.now(UTC)
    to_midnight = ((now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - now).total_seconds()
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["details"]["limit_type"], error["details"]["limit"]) == ("RATE_LIMITED", "daily", 2)
    assert abs(int(response.headers["Retry-After"]) - to_midnight) < 5
    assert error["details"]["retry_after"] == int(response.headers["Retry-After"])


def test_reads_are_never_limited(server: ApiServer):
    account = server.new_account(max_concurrent_jobs=1, daily_job_limit=1)
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    assert account.client.post("/api/v1/jobs", json=job_body()).status_code == 429
    statuses = {account.client.get(path).status_code for _ in range(30)
                for path in ("/api/v1/jobs", f"/api/v1/jobs/{job_id}", "/api/v1/credits/balance")}
    assert statuses == {200}


def test_repeating_an_idempotent_request_is_not_limited(server: ApiServer):
    account = server.new_account(max_concurrent_jobs=1)
    first = account.client.post("/api/v1/jobs", json=job_body(idempotency_key="k1"))
    again = account.client.post("/api/v1/jobs", json=job_body(idempotency_key="k1"))
    assert (first.status_code, again.status_code) == (201, 200)


def test_limits_apply_to_the_account_across_all_its_keys(server: ApiServer):
    account = server.new_account(max_concurrent_jobs=1)
    key = account.client.post("/api/v1/api-keys", json={"name": "second"}).json()["key"]
    assert account.client.post("/api/v1/jobs", json=job_body()).status_code == 201
    assert server.client(**{"X-API-Key": key}).post("/api/v1/jobs", json=job_body()).status_code == 429


def test_five_create_cancel_loops_do_not_open_a_sixth_slot_while_their_renders_run(server: ApiServer):
    account = server.new_account(max_concurrent_jobs=5)
    started = []
    for _ in range(5):
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        assert server.post_event(event(job_id, 1)).status_code == 200  # a worker renders it
        assert account.client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
        started.append(job_id)
    sixth = account.client.post("/api/v1/jobs", json=job_body())
    assert sixth.status_code == 429, sixth.text
    stopped = event(started[0], 2, "failed", percent=10.0,
                    error={"code": "JOB_CANCELLED", "message": "the job was cancelled", "details": {}})
    assert server.post_event(stopped).json() == {"accepted": False, "reason": "job_finished"}
    assert account.client.post("/api/v1/jobs", json=job_body()).status_code == 201  # that worker let go
