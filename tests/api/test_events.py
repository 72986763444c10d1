"""The worker's progress events: signature, freshness, attempts, duplicates and job state."""

from __future__ import annotations

import time

import httpx

from tests.api.support import ApiServer, completed, event, failed, job_body


def test_a_processing_event_moves_the_job_on_and_its_percent_never_goes_back(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    assert server.post_event(event(job_id, 1, stage="agents", percent=12.5)).json()["accepted"] is True
    server.post_event(event(job_id, 2, stage="generation", percent=10.0))
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["current_stage"], job["progress_percent"]) == ("processing", "generation", 12.5)


def test_a_completed_event_records_the_video(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(completed(job_id, 1))
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["current_stage"], job["progress_percent"]) == ("completed", "complete", 100)
    assert job["final_video_url"] == f"https://cdn.example/renders/{job_id}/final.mp4"
    assert job["thumbnail_url"].endswith("thumbnail.jpg") and job["captions_url"].endswith("captions.vtt")
    assert (job["width"], job["height"], job["size_bytes"], job["duration_s"]) == (360, 640, 123456, 6.0)


def test_a_failed_event_records_the_workers_error_object(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(event(job_id, 1, "failed", error={"code": "PERSONA_INVALID", "message": "no face", "details": {}}))
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "failed"
    assert job["error"] == {"code": "PERSONA_INVALID", "message": "no face", "details": {}}
    assert job["error_message"] == "no face"


def test_unsigned_badly_signed_and_old_events_are_refused_with_401(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    body = event(job_id, 1)
    unsigned = httpx.post(server.url + "/internal/jobs/events", json=body)
    wrong_key = server.post_event(body, secret="not-the-jobs-secret")
    other_jobs_key = server.post_event(body, secret=server.callback_secret)  # the master, not the derived one
    old = server.post_event(body, now_s=time.time() - 400)
    future = server.post_event(body, now_s=time.time() + 400)
    reasons = [r.json()["error"]["details"]["reason"] for r in (unsigned, wrong_key, other_jobs_key, old, future)]
    assert reasons == ["missing_signature", "bad_signature", "bad_signature", "stale_timestamp", "stale_timestamp"]
    assert {r.status_code for r in (unsigned, wrong_key, other_jobs_key, old, future)} == {401}
    assert wrong_key.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"


def test_an_event_signed_a_few_minutes_ago_is_still_taken(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    assert server.post_event(event(job_id, 1), now_s=time.time() - 200).json() == {"accepted": True, "reason": None}


def test_an_event_signed_for_one_job_cannot_be_replayed_for_another(server: ApiServer, account):
    mine, other = (account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2))
    raw_for_mine = server.post_event(event(mine, 1)).request
    tampered = raw_for_mine.content.replace(mine.encode(), other.encode())
    response = httpx.post(server.url + "/internal/jobs/events", content=tampered, headers=dict(raw_for_mine.headers))
    assert response.status_code == 401


def test_an_event_for_an_unknown_job_is_404_and_a_malformed_one_422(server: ApiServer):
    assert server.post_event(event("no-such-job", 1)).status_code == 404
    response = server.post_event({"job_id": "x", "attempt": 0, "status": "dancing"})
    assert response.status_code == 422
    assert {tuple(d["loc"]) for d in response.json()["detail"]} == {("body", "attempt"), ("body", "status")}


def test_a_repeated_seq_is_ignored(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(event(job_id, 5, stage="audio", percent=80))
    assert server.post_event(event(job_id, 5, stage="audio", percent=90)).json() == {
        "accepted": False, "reason": "duplicate"}
    assert server.post_event(event(job_id, 4, stage="init", percent=30)).json()["reason"] == "duplicate"
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["progress_percent"] == 80


def test_a_repeated_terminal_event_changes_nothing(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(completed(job_id, 3))
    assert server.post_event(completed(job_id, 3)).json() == {"accepted": False, "reason": "job_finished"}
    assert server.post_event(completed(job_id, 4)).json() == {"accepted": False, "reason": "job_finished"}
    assert account.client.get("/api/v1/credits/balance").json()["available_credits"] == 930


def test_events_of_an_earlier_attempt_are_ignored_after_a_retry(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(event(job_id, 1, "failed", error={"code": "RENDER_FAILED", "message": "boom", "details": {}}))
    retried = account.client.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempt"], retried.json()["error"]) == ("queued", 2, None)
    assert server.post_event(event(job_id, 2, attempt=1)).json() == {"accepted": False, "reason": "stale_attempt"}
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"
    assert server.post_event(event(job_id, 3, attempt=2)).json()["accepted"] is True
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "processing"


def test_a_retrys_events_numbered_from_1_again_are_applied(server: ApiServer, account):
    # The worker numbers events in Redis; a Redis restarted without persistence, or a numbering
    # that expired, starts the next attempt at 1 while the API saw 40 from the first.
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    for seq in range(1, 40):
        server.post_event(event(job_id, seq, percent=seq))
    server.post_event(failed(job_id, 40))
    assert account.client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
    assert server.post_event(event(job_id, 1, attempt=2, percent=10)).json() == {"accepted": True, "reason": None}
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "processing"
    assert server.post_event(completed(job_id, 12, attempt=2)).json()["accepted"] is True
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["credits_reserved"], job["credits_consumed"]) == ("completed", 0, 70)


def test_a_terminal_event_is_applied_whatever_its_seq_while_the_job_has_not_ended(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(event(job_id, 30, percent=60))
    assert server.post_event(event(job_id, 2, percent=70)).json()["reason"] == "duplicate"
    assert server.post_event(completed(job_id, 2)).json()["accepted"] is True
    assert account.client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "completed"


def test_only_a_failed_job_can_be_retried(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    response = account.client.post(f"/api/v1/jobs/{job_id}/retry")
    assert response.status_code == 409 and response.json()["error"]["code"] == "JOB_NOT_RETRYABLE"


def test_a_cancelled_job_ignores_the_workers_later_result(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(event(job_id, 1))
    account.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert server.post_event(completed(job_id, 2)).json() == {"accepted": False, "reason": "job_finished"}
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["final_video_url"], job["credits_consumed"]) == ("cancelled", None, 0)
