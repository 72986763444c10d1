"""Templates: CRUD, at most 20 per account, one default, read-only built-ins, and jobs that use them."""

from __future__ import annotations

from tests.api.support import ApiServer, job_body


def make(account, name: str = "Calm", **fields):
    body = {"name": name, "config": {"music_mood": "chill", "output_aspect_ratio": "1:1"}, **fields}
    return account.client.post("/api/v1/templates", json=body)


def test_a_template_is_created_read_updated_and_deleted(account):
    created = make(account, description="for cups")
    assert created.status_code == 201
    template = created.json()
    assert template["config"] == {"music_mood": "chill", "aspect_ratio": "1:1"}  # U-Gen's name mapped
    assert (template["is_default"], template["use_count"], template["builtin"]) == (False, 0, False)
    assert account.client.get(f"/api/v1/templates/{template['id']}").json() == template
    patched = account.client.patch(f"/api/v1/templates/{template['id']}",
                                   json={"name": "Calmer", "config": {"script_tone": "professional"}})
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["config"], patched.json()["description"]) == (
        "Calmer", {"script_tone": "professional"}, "for cups")
    assert account.client.delete(f"/api/v1/templates/{template['id']}").status_code == 204
    assert account.client.get(f"/api/v1/templates/{template['id']}").status_code == 404


def test_the_list_is_a_bare_array_default_first_then_by_use_count_own_before_built_ins(account):
    make(account, "A")
    listed = account.client.get("/api/v1/templates").json()
    assert isinstance(listed, list)
    assert [(t["name"], t["builtin"], t["is_default"]) for t in listed] == [
        ("UGC default", True, True), ("A", False, False), ("Calm showcase", True, False)]
    assert account.client.get("/api/v1/templates", params={"limit": 1}).json()[0]["name"] == "UGC default"


def test_templates_used_more_come_first_after_the_default_built_ins_counting_this_accounts_jobs(server: ApiServer):
    account = server.new_account(credits=1000, max_concurrent_jobs=10)
    once, twice = make(account, "Once").json(), make(account, "Twice").json()
    for template_id in (once["id"], twice["id"], twice["id"], "calm-showcase", "calm-showcase", "calm-showcase"):
        assert account.client.post("/api/v1/jobs", json=job_body(template_id=template_id)).status_code == 201
    listed = account.client.get("/api/v1/templates").json()
    assert [(t["name"], t["use_count"]) for t in listed] == [
        ("UGC default", 0), ("Calm showcase", 3), ("Twice", 2), ("Once", 1)]
    make(account, "Mine", is_default=True)
    assert [t["name"] for t in account.client.get("/api/v1/templates").json()] == [
        "Mine", "Calm showcase", "Twice", "Once", "UGC default"]


def test_an_account_has_at_most_one_default(account):
    first = make(account, "First", is_default=True).json()
    second = make(account, "Second", is_default=True).json()
    listed = account.client.get("/api/v1/templates").json()
    assert [t["id"] for t in listed if t["is_default"]] == [second["id"]]  # the catalog's default yields too
    account.client.patch(f"/api/v1/templates/{first['id']}", json={"is_default": True})
    assert [t["id"] for t in account.client.get("/api/v1/templates").json() if t["is_default"]] == [first["id"]]


def test_the_twenty_first_template_is_refused(account):
    for i in range(20):
        assert make(account, f"T{i}").status_code == 201
    response = make(account, "T20")
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "TEMPLATE_LIMIT_REACHED",
                                         "message": "an account can keep at most 20 templates",
                                         "details": {"limit": 20}}}


def test_an_invalid_config_is_422_under_body_config(account):
    response = account.client.post("/api/v1/templates", json={"name": "x", "config": {
        "segment_count": 40, "product_name": "no", "qai_enabled": True}})
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "config", "product_name"]]
    response = account.client.post("/api/v1/templates", json={"name": "x", "config": {"segment_count": 40}})
    assert response.json()["detail"][0]["loc"] == ["body", "config", "segment_count"]
    assert account.client.post("/api/v1/templates", json={"config": {}}).json()["detail"][0]["loc"] == ["body", "name"]


def test_built_in_templates_are_readable_but_read_only(account):
    assert account.client.get("/api/v1/templates/ugc-default").json()["builtin"] is True
    for response in (account.client.patch("/api/v1/templates/ugc-default", json={"name": "x"}),
                     account.client.delete("/api/v1/templates/ugc-default")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "TEMPLATE_READ_ONLY"


def test_another_accounts_template_is_invisible(server: ApiServer, account):
    template_id = make(account).json()["id"]
    other = server.new_account().client
    assert other.get(f"/api/v1/templates/{template_id}").status_code == 404
    assert other.delete(f"/api/v1/templates/{template_id}").status_code == 404
    assert other.post("/api/v1/jobs", json=job_body(template_id=template_id)).status_code == 422


def test_a_job_takes_its_templates_settings_where_it_leaves_them_out(account):
    template = make(account).json()
    job = account.client.post("/api/v1/jobs", json=job_body(template_id=template["id"], music_mood="upbeat")).json()
    assert (job["config"]["aspect_ratio"], job["config"]["music_mood"]) == ("1:1", "upbeat")
    assert job["template_id"] == template["id"] and "template_id" not in job["config"]
    assert account.client.get(f"/api/v1/templates/{template['id']}").json()["use_count"] == 1
    builtin = account.client.post("/api/v1/jobs", json=job_body(template_id="calm-showcase")).json()
    assert builtin["config"]["interaction_mode"] == "display_static"
    missing = account.client.post("/api/v1/jobs", json=job_body(template_id="nope"))
    assert missing.status_code == 422 and missing.json()["detail"][0]["type"] == "template_not_found"
