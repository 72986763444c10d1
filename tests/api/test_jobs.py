"""Jobs over real HTTP: creation, validation, reading, pagination, idempotency and cancellation."""

from __future__ import annotations

import uuid

from tests.api.support import ApiServer, job_body


def test_a_created_job_is_queued_with_its_credits_reserved_and_can_be_read_back(account):
    response = account.client.post("/api/v1/jobs", json=job_body(persona_id="grace"))
    assert response.status_code == 201
    job = response.json()
    assert job["status"] == "queued" and job["current_stage"] == "prepare" and job["progress_percent"] == 0
    assert job["credits_reserved"] == 70 and job["credits_consumed"] == 0
    assert job["final_video_url"] is None and job["error"] is None and job["persona_id"] == "grace"
    assert job["config"]["segment_duration"] == 3 and job["config"]["aspect_ratio"] == "9:16"
    uuid.UUID(job["job_id"])
    uuid.UUID(job["idempotency_key"])  # generated when omitted
    read = account.client.get(f"/api/v1/jobs/{job['job_id']}").json()
    assert {**read, "updated_at": None} == {**job, "updated_at": None}  # sending it to the queue touched the row


def test_a_missing_field_gets_the_seed_422_detail_list(account):
    response = account.client.post("/api/v1/jobs", json={"product_name": "test", "segment_count": 3})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "missing", "loc": ["body", "product_image_url"], "msg": "Field required",
         "input": {"product_name": "test", "segment_count": 3}}]}


def test_the_seeds_422_example_comes_back_to_the_letter(account):
    # U-Gen's documented example: the body's only field was product_name (segment_count missing too)
    response = account.client.post("/api/v1/jobs", json={"product_name": "test"})
    assert response.status_code == 422
    assert {"type": "missing", "loc": ["body", "product_image_url"], "msg": "Field required",
            "input": {"product_name": "test"}} in response.json()["detail"]


def test_out_of_range_and_unknown_fields_are_422_with_their_input(account):
    response = account.client.post("/api/v1/jobs", json=job_body(segment_count=11, colour="red"))
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "less_than_equal", "loc": ["body", "segment_count"], "msg": "Input should be less than or equal to 10",
         "input": 11},
        {"type": "extra_forbidden", "loc": ["body", "colour"], "msg": "Extra inputs are not permitted", "input": "red"}]}


def test_fields_the_api_assigns_cannot_be_sent(account):
    response = account.client.post("/api/v1/jobs", json=job_body(job_id="mine", delivery={}))
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "job_id"], ["body", "delivery"]]


def test_a_body_that_is_not_an_object_or_not_json_is_422(account):
    assert account.client.post("/api/v1/jobs", json=[1, 2]).status_code == 422
    response = account.client.post("/api/v1/jobs", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


def test_unknown_personas_voices_and_non_http_image_urls_are_422(account):
    cases = [({"persona_id": "nobody"}, ["body", "persona_id"], "persona_not_found"),
             ({"voice_settings": {"voice_id": "nobody"}}, ["body", "voice_settings", "voice_id"], "voice_not_found"),
             ({"custom_music_id": "nothing"}, ["body", "custom_music_id"], "music_not_found"),
             ({"product_image_url": "file:///etc/passwd"}, ["body", "product_image_url"], "url_scheme")]
    for fields, loc, type_ in cases:
        response = account.client.post("/api/v1/jobs", json=job_body(**fields))
        assert response.status_code == 422, fields
        assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(loc, type_)]
    assert account.client.get("/api/v1/credits/balance").json()["credit_reserved"] == 0


def test_an_unknown_job_and_another_accounts_job_are_both_404(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    other = server.new_account()
    for client, wanted in ((account.client, "0000"), (other.client, job_id)):
        response = client.get(f"/api/v1/jobs/{wanted}")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Job not found", "details": {"id": wanted}}}


def test_the_job_list_pages_with_the_envelope_at_every_edge(server: ApiServer):
    account = server.new_account(credits=10_000, max_concurrent_jobs=100)
    created = [account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(45)]
    empty = server.new_account().client.get("/api/v1/jobs").json()
    assert empty == {"items": [], "total": 0, "page": 1, "page_size": 20, "total_pages": 0}
    pages = [account.client.get("/api/v1/jobs", params={"page": p}).json() for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [20, 20, 5, 0]
    assert all((p["total"], p["page_size"], p["total_pages"]) == (45, 20, 3) for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    listed = [j["job_id"] for p in pages for j in p["items"]]
    assert listed == list(reversed(created))  # newest first, each job once
    exact = account.client.get("/api/v1/jobs", params={"page_size": 45}).json()
    assert (len(exact["items"]), exact["total_pages"]) == (45, 1)
    assert account.client.get("/api/v1/jobs", params={"page_size": 100}).json()["total_pages"] == 1
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page": 0}, {"page": "x"}):
        response = account.client.get("/api/v1/jobs", params=bad)
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(bad))]


def test_the_job_list_filters_by_status(account):
    first, second = (account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2))
    account.client.post(f"/api/v1/jobs/{first}/cancel")
    cancelled = account.client.get("/api/v1/jobs", params={"status": "cancelled"}).json()
    assert [j["job_id"] for j in cancelled["items"]] == [first] and cancelled["total"] == 1
    assert [j["job_id"] for j in account.client.get("/api/v1/jobs", params={"status": "queued"}).json()["items"]] == [second]


def test_the_same_idempotency_key_with_the_same_parameters_returns_the_existing_job(account):
    body = job_body(idempotency_key="order-1234")
    first = account.client.post("/api/v1/jobs", json=body)
    again = account.client.post("/api/v1/jobs", json={**body, "segment_duration": 3})  # same, spelled out
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["job_id"] == first.json()["job_id"]
    assert account.client.get("/api/v1/jobs").json()["total"] == 1
    assert account.client.get("/api/v1/credits/balance").json()["credit_reserved"] == 70


def test_the_same_idempotency_key_with_different_parameters_is_a_409(account):
    first = account.client.post("/api/v1/jobs", json=job_body(idempotency_key="order-1")).json()
    response = account.client.post("/api/v1/jobs", json=job_body(idempotency_key="order-1", segment_count=3))
    assert response.status_code == 409
    assert response.json() == {"error": {
        "code": "IDEMPOTENCY_CONFLICT", "message": "idempotency_key was already used with different parameters",
        "details": {"idempotency_key": "order-1", "job_id": first["job_id"]}}}


def test_idempotency_keys_belong_to_one_account(server: ApiServer, account):
    mine = account.client.post("/api/v1/jobs", json=job_body(idempotency_key="shared")).json()
    theirs = server.new_account().client.post("/api/v1/jobs", json=job_body(idempotency_key="shared"))
    assert theirs.status_code == 201 and theirs.json()["job_id"] != mine["job_id"]


def test_jobs_without_a_key_are_never_merged(account):
    ids = {account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2)}
    assert len(ids) == 2


def test_cancelling_a_queued_job_releases_its_credits_and_a_second_cancel_is_409(account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    response = account.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["credits_reserved"] == 0 and response.json()["finished_at"] is not None
    assert account.client.get("/api/v1/credits/balance").json() == {
        "credit_balance": 1000, "credit_reserved": 0, "available_credits": 1000}
    again = account.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert again.json() == {"error": {"code": "JOB_NOT_CANCELLABLE", "message": "a cancelled job cannot be cancelled",
                                      "details": {"job_id": job_id, "status": "cancelled"}}}


def test_unknown_routes_and_methods_answer_in_the_error_shape(server: ApiServer, account):
    missing = account.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = account.client.delete("/api/v1/jobs")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_nul_characters_anywhere_are_422_and_an_oversized_body_is_413(server: ApiServer, account):
    body = account.client.post("/api/v1/jobs", json=job_body(key_selling_points=["fine", "n\x00pe"]))
    assert body.status_code == 422
    assert body.json() == {"detail": [{"type": "string_nul", "loc": ["body", "key_selling_points", 1],
                                       "msg": "NUL characters are not allowed"}]}
    query = account.client.get("/api/v1/credits/transactions", params={"job_id": "a\x00"})
    assert query.status_code == 422 and query.json()["detail"][0]["loc"] == ["query"]
    big = account.client.post("/api/v1/jobs", content=b"{" + b" " * 1_100_000 + b"}",
                              headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert account.client.get("/api/v1/jobs").json()["total"] == 0
