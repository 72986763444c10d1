"""job.completed and job.failed webhooks: configuration, payload, signature, exactly once, retries."""

from __future__ import annotations

import itertools
import secrets
import socket
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from api.context import AppContext
from api.settings import ApiSettings
from api.tables import WebhookDelivery
from api.webhooks import WebhookSender, url_problem
from tests.api.support import ApiServer, WebhookReceiver, completed, failed, job_body


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hooks = WebhookReceiver(secrets.token_hex(32)).start()
    yield hooks
    hooks.stop()


def configure(account, receiver: WebhookReceiver) -> None:
    response = account.client.put("/api/v1/tenants/me/webhook",
                                  json={"webhook_url": receiver.url, "webhook_secret": receiver.secret})
    assert response.status_code == 200


def test_the_webhook_config_is_set_read_without_its_secret_and_cleared(account, receiver):
    assert account.client.get("/api/v1/tenants/me/webhook").json() == {
        "webhook_configured": False, "webhook_url": None, "signed": False}
    configure(account, receiver)
    shown = account.client.get("/api/v1/tenants/me/webhook")
    assert shown.json() == {"webhook_configured": True, "webhook_url": receiver.url, "signed": True}
    assert receiver.secret not in shown.text
    assert account.client.delete("/api/v1/tenants/me/webhook").status_code == 204
    assert account.client.get("/api/v1/tenants/me/webhook").json()["webhook_configured"] is False


def test_webhook_urls_must_be_https_to_a_named_host_outside_tests():
    assert url_problem("https://hooks.example.com/ugen", allow_private=False) is None
    assert url_problem("http://hooks.example.com/ugen", allow_private=False) == "webhook_url must be an https:// URL"
    assert url_problem("http://127.0.0.1:9/x", allow_private=True) is None
    assert url_problem("https://user:pw@hooks.example.com/", allow_private=False) is not None
    assert url_problem("ftp://hooks.example.com/", allow_private=True) is not None


def test_a_bad_webhook_url_is_422(account):
    response = account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": "gopher://x"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "webhook_url"]


def test_a_completed_job_sends_exactly_one_signed_job_completed_webhook(server: ApiServer, account, receiver):
    configure(account, receiver)
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(completed(job_id, 1))
    server.post_event(completed(job_id, 1))  # the worker may repeat its terminal event
    [delivery] = receiver.wait_for(1, timeout_s=10)
    assert receiver.signed_correctly(delivery)
    assert abs(int(delivery.headers["x-ugen-timestamp"]) - time.time()) < 30
    body = delivery.body
    assert set(body) == {"event", "job_id", "status", "final_video_url", "thumbnail_url", "credits_consumed",
                         "error_message", "timestamp"}
    assert (body["event"], body["job_id"], body["status"]) == ("job.completed", job_id, "completed")
    assert body["final_video_url"].endswith(f"{job_id}/final.mp4") and body["credits_consumed"] == 70
    assert body["error_message"] is None and body["timestamp"].endswith("Z")
    time.sleep(1.5)
    assert len(receiver.deliveries) == 1


def test_a_failed_job_sends_job_failed_with_the_error_message(server: ApiServer, account, receiver):
    configure(account, receiver)
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(failed(job_id, 1))
    [delivery] = receiver.wait_for(1, timeout_s=10)
    assert (delivery.body["event"], delivery.body["status"]) == ("job.failed", "failed")
    assert delivery.body["error_message"] == "product image answered 404" and delivery.body["credits_consumed"] == 0


def test_without_a_secret_deliveries_are_unsigned(server: ApiServer, account, receiver):
    account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": receiver.url})
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    server.post_event(completed(job_id, 1))
    [delivery] = receiver.wait_for(1, timeout_s=10)
    assert "x-ugen-signature" not in delivery.headers and "x-ugen-timestamp" in delivery.headers


def test_a_jobs_own_webhook_url_overrides_the_accounts(server: ApiServer, account, receiver):
    other = WebhookReceiver(receiver.secret).start()
    try:
        configure(account, receiver)
        job_id = account.client.post("/api/v1/jobs", json=job_body(webhook_url=other.url)).json()["job_id"]
        server.post_event(completed(job_id, 1))
        assert other.wait_for(1, timeout_s=10)[0].body["job_id"] == job_id
        assert receiver.deliveries == []
    finally:
        other.stop()


def test_a_failing_receiver_is_retried_after_1_4_and_16_seconds_then_dropped(server: ApiServer, account):
    receiver = WebhookReceiver(secrets.token_hex(32), fail_first=10).start()
    try:
        configure(account, receiver)
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        server.post_event(completed(job_id, 1))
        tries = receiver.wait_for(4, timeout_s=30)
        gaps = [b.at_s - a.at_s for a, b in itertools.pairwise(tries)]
        assert [round(g) for g in gaps] == [1, 4, 16], gaps
        assert all(abs(g - want) < 0.8 for g, want in zip(gaps, (1, 4, 16))), gaps
        assert len({t.raw for t in tries}) == 1  # the same body every time, freshly signed
        assert all(receiver.signed_correctly(t) for t in tries)
        time.sleep(3)
        assert len(receiver.deliveries) == 4
    finally:
        receiver.stop()


def test_a_receiver_that_recovers_gets_the_webhook_once(server: ApiServer, account):
    receiver = WebhookReceiver(secrets.token_hex(32), fail_first=1).start()
    try:
        configure(account, receiver)
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        server.post_event(completed(job_id, 1))
        tries = receiver.wait_for(2, timeout_s=10)
        time.sleep(5.5)  # past the next retry time: nothing more may come
        assert len(receiver.deliveries) == 2 and tries[0].raw == tries[1].raw
    finally:
        receiver.stop()


def sender_for(tmp_path, **settings) -> WebhookSender:
    ctx = AppContext.build(ApiSettings(database_url=f"sqlite:///{tmp_path}/api.sqlite3", webhook_timeout_s=1,
                                       **settings))
    return WebhookSender(ctx)


def delivery_to(url: str) -> WebhookDelivery:
    return WebhookDelivery(job_id="job-1", event="job.completed", url=url, secret="s", body='{"event":"job.completed"}')


def test_a_webhook_goes_only_to_the_address_that_was_checked(tmp_path, monkeypatch, receiver):
    # DNS rebinding: the name answers a public address for the check, then loopback.
    real_getaddrinfo, answers = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = "93.184.215.14" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    problem = sender_for(tmp_path, allow_private_urls=False)._try(
        delivery_to(f"http://hooks.rebind.test:{receiver.port}/hooks/ugen"))
    assert receiver.deliveries == [], "the webhook reached a loopback address after the check"
    assert problem is not None and answers == ["93.184.215.14"]


def test_a_webhook_ignores_proxy_variables(tmp_path, monkeypatch, receiver):
    proxy = WebhookReceiver(None).start()  # would record what a proxy in the environment was sent
    try:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        assert sender_for(tmp_path, allow_private_urls=True)._try(delivery_to(receiver.url)) is None
        assert len(receiver.deliveries) == 1 and proxy.deliveries == []
    finally:
        proxy.stop()


def complete_jobs(server: ApiServer, account, count: int) -> list[str]:
    job_ids = []
    for _ in range(count):  # one at a time: the account's concurrency limit is 5
        job_ids.append(account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"])
        assert server.post_event(completed(job_ids[-1], 1)).json()["accepted"] is True
    return job_ids


def test_a_slow_receiver_does_not_delay_other_tenants_webhooks(server: ApiServer):
    slow, fast = WebhookReceiver(None, delay_s=5).start(), WebhookReceiver(None).start()
    try:
        patient, other = server.new_account(), server.new_account()
        configure(patient, slow)
        configure(other, fast)
        complete_jobs(server, patient, 3)
        finished = time.monotonic()
        [job_id] = complete_jobs(server, other, 1)
        [delivery] = fast.wait_for(1, timeout_s=20)
        assert delivery.body["job_id"] == job_id and delivery.at_s - finished < 3, delivery.at_s - finished
    finally:
        slow.stop()
        fast.stop()


def test_two_replicas_never_send_the_same_webhook_twice(new_database, api_logs):
    # The second replica shares the first one's database: both senders see every row. It is
    # held still while the jobs end, so that all their webhooks are due when it looks.
    database_url = new_database()  # of their own: no other server's sender takes these rows
    first = ApiServer(database_url, api_logs).start()
    second = ApiServer(database_url, api_logs, callback_secret=first.callback_secret).start()
    slow = WebhookReceiver(None, delay_s=5).start()
    try:
        account = first.new_account()
        configure(account, slow)
        with second.frozen():
            job_ids = complete_jobs(first, account, 9)
        slow.wait_for(9, timeout_s=90)
        time.sleep(12)
        sent = Counter(d.body["job_id"] for d in slow.deliveries)
        assert sent == Counter(job_ids), sent
    finally:
        slow.stop()
        second.stop()
        first.stop()
