"""Readiness and metrics through a real server on PostgreSQL: /readyz touches the database and
the broker and names what is down; /metrics counts events, webhooks and the sweeper's actions and
reads the backlogs (webhooks in the database, the workers' outbox in Redis) at each scrape."""

from __future__ import annotations

import secrets
import time
import uuid

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from engine.worker.outbox import Outbox
from engine.worker.refusals import DeadLetters
from tests.api.support import REDIS_URL, ApiServer, WebhookReceiver, completed, event, job_body
from tests.support.seaweed import free_port
from tests.support.tcp_proxy import CuttableProxy


def scrape(server: ApiServer) -> dict[str, float]:
    """Every sample of the server's /metrics as {'name{label="v"}': value}."""
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


@pytest.fixture
def own_server(new_database, api_logs):
    """A server with a database of its own, so the backlog gauges count this test's rows only."""
    servers = []

    def start(**env: str) -> ApiServer:
        servers.append(ApiServer(new_database(), api_logs, **env).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_readyz_answers_200_with_every_check_ok(server: ApiServer):
    ready = httpx.get(server.url + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_answers_503_naming_the_database_and_the_broker_when_they_are_down(new_database, api_logs):
    database = new_database()
    proxy = CuttableProxy(target_port=5432).start()
    through_proxy = database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    api = ApiServer(through_proxy, api_logs, UGEN_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0").start()
    try:
        broker_down = httpx.get(api.url + "/readyz", timeout=20)
        assert broker_down.status_code == 503
        error = broker_down.json()["error"]
        assert (error["code"], error["message"], error["details"]["database"]) == (
            "NOT_READY", "broker unreachable", "ok")
        assert "Connection" in error["details"]["broker"]
        proxy.cut()
        both_down = httpx.get(api.url + "/readyz", timeout=20).json()["error"]
        assert both_down["message"] == "broker and database unreachable"
        assert both_down["details"]["database"] != "ok"
        assert httpx.get(api.url + "/healthz", timeout=10).status_code == 200  # liveness touches nothing
    finally:
        api.stop()
        proxy.stop()


def test_events_are_counted_by_outcome_with_their_latency(server: ApiServer, account):
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    before = scrape(server)
    assert server.post_event(event(job_id, 1)).json() == {"accepted": True, "reason": None}
    assert server.post_event(event(job_id, 1)).json()["reason"] == "duplicate"
    assert server.post_event(event(job_id, 2), secret="not-the-jobs-secret").status_code == 401
    assert server.post_event(completed(job_id, 3)).status_code == 200
    after = scrape(server)
    assert delta(before, after, 'ugen_api_events_total{outcome="applied"}') == 2
    assert delta(before, after, 'ugen_api_events_total{outcome="ignored"}') == 1
    assert delta(before, after, 'ugen_api_events_total{outcome="refused"}') == 1
    assert delta(before, after, 'ugen_api_jobs_finished_total{status="completed"}') == 1
    assert delta(before, after, "ugen_api_event_latency_seconds_count") == 3
    assert delta(before, after, 'ugen_api_event_latency_seconds_bucket{le="5.0"}') == 3  # signed just now


def test_the_webhook_backlog_is_the_rows_waiting_and_deliveries_are_counted(own_server):
    api = own_server(UGEN_API_WEBHOOK_RETRY_DELAYS_S="1,1")
    hooks = WebhookReceiver(secrets.token_hex(32), fail_first=1).start()
    try:
        account = api.new_account(credits=1000)
        account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": hooks.url, "webhook_secret": hooks.secret})
        assert scrape(api)["ugen_api_webhook_backlog"] == 0
        job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
        before = scrape(api)
        api.post_event(completed(job_id, 1))
        hooks.wait_for(1, timeout_s=10)
        waiting = scrape(api)  # the first try failed; the retry is a second away
        assert waiting["ugen_api_webhook_backlog"] == 1 and waiting["ugen_api_webhook_oldest_pending_seconds"] > 0
        hooks.wait_for(2, timeout_s=10)
        deadline = time.monotonic() + 10
        while (after := scrape(api))["ugen_api_webhook_backlog"] != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert after["ugen_api_webhook_backlog"] == 0 and after["ugen_api_webhook_oldest_pending_seconds"] == 0
        assert delta(before, after, 'ugen_api_webhook_deliveries_total{outcome="retried"}') == 1
        assert delta(before, after, 'ugen_api_webhook_deliveries_total{outcome="delivered"}') == 1
    finally:
        hooks.stop()


def test_the_sweeper_counts_a_job_it_kept_and_one_it_sent_again(own_server):
    api = own_server(UGEN_API_REQUEUE_AFTER_S="1", UGEN_API_SWEEP_INTERVAL_S="0.3")
    account = api.new_account(credits=1000)
    account.client.post("/api/v1/jobs", json=job_body())
    deadline = time.monotonic() + 15
    while scrape(api)['ugen_api_sweeper_actions_total{action="kept"}'] < 1 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert scrape(api)['ugen_api_sweeper_actions_total{action="kept"}'] >= 1  # still in the queue
    redis.Redis.from_url(REDIS_URL).delete(f"dramatiq:{api.queue}.msgs")  # the broker lost it
    while scrape(api)['ugen_api_sweeper_actions_total{action="resent"}'] < 1 and time.monotonic() < deadline + 15:
        time.sleep(0.3)
    assert scrape(api)['ugen_api_sweeper_actions_total{action="resent"}'] == 1


def test_the_workers_outbox_and_dead_letters_are_read_from_their_redis(own_server):
    api = own_server()
    client = redis.Redis.from_url(REDIS_URL)
    baseline = scrape(api)
    outbox, jobs = Outbox(client, ttl_s=60, result_ttl_s=60), [f"metrics-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        for job_id in jobs:
            outbox.register(job_id, callback_url=api.url + "/internal/jobs/events", secret="s")
            outbox.append(job_id, {"job_id": job_id, "attempt": 1, "status": "processing", "progress_percent": 10.0})
        DeadLetters(client).add(jobs[0], b'{"job_id": "x"}', why="test")
        after = scrape(api)
        assert delta(baseline, after, "ugen_api_worker_outbox_jobs") == 2
        assert delta(baseline, after, "ugen_api_worker_dead_letters") == 1
    finally:
        client.zrem("ugen:outbox", *jobs)
        client.lrem("ugen:outbox:dead", 1, client.lindex("ugen:outbox:dead", -1) or b"")


def test_the_metrics_read_the_same_redis_keys_the_worker_writes():
    from api.metrics import DEAD_KEY, OUTBOX_KEY
    from engine.worker.outbox import PENDING
    from engine.worker.refusals import DEAD

    assert (OUTBOX_KEY, DEAD_KEY) == (PENDING, DEAD)
