"""Credits: the estimate, reservation at creation (402 when short), settlement, release, the ledger."""

from __future__ import annotations

import itertools

from tests.api.support import ApiServer, completed, event, failed, job_body


def test_the_estimate_breaks_a_draft_job_down_by_component(account):
    response = account.client.post("/api/v1/credits/estimate", json=job_body())
    assert response.status_code == 200
    assert response.json() == {"total_credits": 70, "available_credits": 1000, "breakdown": {
        "video": 6, "keyframes": 24, "voice": 15, "music": 15, "captions": 0, "post_processing": 10}}
    custom = account.client.post("/api/v1/credits/estimate", json=job_body(
        video_resolution="standard", music_enabled=False, voice_settings={"voice_id": "joe"},
        custom_caption_options={"text_colour": "#000000"})).json()
    assert custom["breakdown"] == {"video": 18, "keyframes": 24, "voice": 20, "music": 0, "captions": 20,
                                   "post_processing": 10}
    assert account.client.post("/api/v1/credits/estimate", json={"product_name": "x"}).status_code == 422


def test_the_estimate_applies_the_template_the_job_names(account):
    template = account.client.post("/api/v1/templates", json={"name": "quiet", "config": {"music_enabled": False}})
    body = job_body(template_id=template.json()["id"])
    assert account.client.post("/api/v1/credits/estimate", json=body).json()["total_credits"] == 55
    assert account.client.post("/api/v1/jobs", json=body).json()["credits_reserved"] == 55
    assert account.client.get(f"/api/v1/templates/{template.json()['id']}").json()["use_count"] == 1  # the job only


def test_a_job_the_account_cannot_afford_is_402_with_required_and_available(server: ApiServer):
    account = server.new_account(credits=50)
    response = account.client.post("/api/v1/jobs", json=job_body())
    assert response.status_code == 402
    assert response.json() == {"error": {"code": "INSUFFICIENT_CREDITS", "message": "Insufficient credits",
                                         "details": {"required": 70, "available": 50}}}
    assert account.client.get("/api/v1/jobs").json()["total"] == 0


def test_reserved_credits_are_not_available_to_the_next_job(server: ApiServer):
    account = server.new_account(credits=100)
    assert account.client.post("/api/v1/jobs", json=job_body()).status_code == 201
    response = account.client.post("/api/v1/jobs", json=job_body())
    assert response.status_code == 402 and response.json()["error"]["details"] == {"required": 70, "available": 30}
    assert account.client.get("/api/v1/credits/balance").json() == {
        "credit_balance": 100, "credit_reserved": 70, "available_credits": 30}


def test_completion_charges_the_seconds_rendered_and_frees_the_rest(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    assert server.post_event(completed(job_id, 1, duration_s=4.2)).json() == {"accepted": True, "reason": None}
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["credits_consumed"], job["credits_reserved"]) == (69, 0)  # 5 s of video instead of 6
    assert account.client.get("/api/v1/credits/balance").json() == {
        "credit_balance": 931, "credit_reserved": 0, "available_credits": 931}


def test_failure_releases_every_reserved_credit(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(failed(job_id, 1))
    job = account.client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["credits_consumed"], job["credits_reserved"]) == ("failed", 0, 0)
    assert account.client.get("/api/v1/credits/balance").json()["available_credits"] == 1000


def test_the_ledger_adds_up_to_the_available_credits_and_pages(server: ApiServer, account):
    done, gone = (account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2))
    server.post_event(event(done, 1))
    server.post_event(completed(done, 2))
    account.client.post(f"/api/v1/jobs/{gone}/cancel")
    server.admin().post(f"/admin/v1/accounts/{account.id}/credits", json={"credits": 200, "type": "purchase"})
    rows = account.client.get("/api/v1/credits/transactions", params={"page_size": 100}).json()
    assert rows["total"] == 7
    oldest_first = list(reversed(rows["items"]))
    assert [(r["type"], r["amount"]) for r in oldest_first] == [
        ("bonus", 1000), ("reserve", -70), ("reserve", -70), ("release", 70), ("consume", -70), ("release", 70),
        ("purchase", 200)]
    assert all(a["balance_after"] == b["balance_before"] for a, b in itertools.pairwise(oldest_first))
    assert all(r["balance_after"] - r["balance_before"] == r["amount"] for r in oldest_first)
    assert sum(r["amount"] for r in oldest_first) == 1130 == oldest_first[-1]["balance_after"]
    assert account.client.get("/api/v1/credits/balance").json()["available_credits"] == 1130
    for_job = account.client.get("/api/v1/credits/transactions", params={"job_id": done}).json()
    assert [r["type"] for r in for_job["items"]] == ["consume", "release", "reserve"]
    page2 = account.client.get("/api/v1/credits/transactions", params={"page": 2, "page_size": 5}).json()
    assert (len(page2["items"]), page2["total_pages"]) == (2, 2)
