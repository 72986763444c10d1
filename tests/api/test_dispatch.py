"""Sending jobs to the worker's queue: after commit, with the delivery block, and again when stuck."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from api.dispatch import callback_secret
from tests.api.support import REDIS_URL, ApiServer, TcpProxy, job_body

REDIS_PORT = 6379
REDIS_DB = REDIS_URL.rsplit("/", 1)[1]


def queued_messages(client: redis.Redis, queue: str) -> list[dict]:
    return [json.loads(raw) for raw in client.hvals(f"dramatiq:{queue}.msgs")]


def wait_for_messages(client: redis.Redis, queue: str, count: int, *, timeout_s: float) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(messages := queued_messages(client, queue)) >= count:
            return messages
        time.sleep(0.1)
    raise AssertionError(f"{len(queued_messages(client, queue))} messages on {queue}, wanted {count}")


def test_a_new_job_is_sent_to_the_workers_queue_with_its_delivery_block(server: ApiServer, account, redis8):
    job = account.client.post("/api/v1/jobs", json=job_body(persona_id="grace")).json()
    messages = [m for m in wait_for_messages(redis8, server.queue, 1, timeout_s=5)
                if m["args"][0]["job_id"] == job["job_id"]]
    [message] = messages
    assert (message["actor_name"], message["queue_name"]) == ("render_job", server.queue)
    sent = message["args"][0]
    assert sent["delivery"] == {"attempt": 1, "callback_url": f"{server.url}/internal/jobs/events",
                                "callback_secret": callback_secret(server.callback_secret, job["job_id"]),
                                "upload": {}}
    assert {k: v for k, v in sent.items() if k not in ("job_id", "delivery")} == job["config"]


@pytest.fixture(scope="module")
def broker_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(REDIS_PORT)  # not listening yet: the broker is down
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def flaky_server(new_database, api_logs: Path, broker_proxy: TcpProxy, redis8) -> Iterator[ApiServer]:
    # A database of its own: its sweeper would otherwise send every other test's queued jobs too.
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=f"redis://127.0.0.1:{broker_proxy.port}/{REDIS_DB}",
                    UGEN_API_SWEEP_INTERVAL_S="0.5", UGEN_API_REQUEUE_AFTER_S="2").start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def sweeping_server(new_database, api_logs: Path, redis8) -> Iterator[ApiServer]:
    api = ApiServer(new_database(), api_logs, UGEN_API_SWEEP_INTERVAL_S="0.5", UGEN_API_REQUEUE_AFTER_S="2").start()
    yield api
    api.stop()


def test_a_job_created_while_the_broker_is_down_is_sent_once_it_is_back(flaky_server: ApiServer, broker_proxy, redis8):
    account = flaky_server.new_account()
    response = account.client.post("/api/v1/jobs", json=job_body())
    assert response.status_code == 201 and response.json()["status"] == "queued"
    time.sleep(1.5)
    assert queued_messages(redis8, flaky_server.queue) == []
    broker_proxy.start()
    [message] = wait_for_messages(redis8, flaky_server.queue, 1, timeout_s=10)
    assert message["args"][0]["job_id"] == response.json()["job_id"]


def sends_of(client: redis.Redis, queue: str, job_id: str) -> dict[str, dict]:
    """This job's messages the broker holds, by Redis message id."""
    held = client.hgetall(f"dramatiq:{queue}.msgs")
    return {k.decode(): m for k, raw in held.items() if (m := json.loads(raw))["args"][0]["job_id"] == job_id}


def wait_for_send(client: redis.Redis, queue: str, job_id: str, *, timeout_s: float) -> tuple[str, dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sends := sends_of(client, queue, job_id):
            [(message_id, message)] = sends.items()
            return message_id, message
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} was not sent again within {timeout_s} s")


def lose(client: redis.Redis, queue: str, message_id: str) -> None:
    """What a Redis that lost the message (a flush, a failover without it) leaves: nothing."""
    client.lrem(f"dramatiq:{queue}", 0, message_id)
    client.hdel(f"dramatiq:{queue}.msgs", message_id)


def test_a_job_waiting_behind_a_backlog_is_never_sent_twice(sweeping_server: ApiServer, redis8):
    account = sweeping_server.new_account()
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    time.sleep(7)  # past the 2 s and 4 s waits: the message is still on the queue, so nothing is sent
    assert len(sends_of(redis8, sweeping_server.queue, job_id)) == 1
    assert redis8.llen(f"dramatiq:{sweeping_server.queue}") == 1  # what an autoscaler counts


def test_a_job_whose_message_was_lost_is_sent_again_with_a_growing_wait_even_when_the_api_is_slowed(
        sweeping_server: ApiServer, redis8):
    # The times are the API's own (each message's timestamp, set as it is sent), so a test
    # process that polls late measures nothing; a sweep delayed by load may send late, never early.
    account, queue = sweeping_server.new_account(), sweeping_server.queue
    job_id = account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"]
    sent_at = []
    for _ in range(3):
        message_id, message = wait_for_send(redis8, queue, job_id, timeout_s=20)
        sent_at.append(message["message_timestamp"] / 1000)
        lose(redis8, queue, message_id)
        if len(sent_at) < 3:
            time.sleep(1.0)
            sweeping_server.pause(2.5)  # a loaded machine: the API gets no CPU as the next send falls due
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:])]
    assert 2.0 <= gaps[0] < 2.0 + 6 and 4.0 <= gaps[1] < 4.0 + 6, gaps
    sweeping_server.post_event({"job_id": job_id, "attempt": 1, "status": "processing", "current_stage": "prepare",
                                "progress_percent": 1.0, "seq": 1})
    time.sleep(6)
    assert sends_of(redis8, queue, job_id) == {}  # a job the worker reported on is never sent again


def test_redis_broker_urls_get_socket_timeouts_unless_they_set_their_own():
    from api.dispatch import with_timeouts

    assert with_timeouts("redis://h:6379/0") == "redis://h:6379/0?socket_timeout=5&socket_connect_timeout=5"
    assert with_timeouts("redis://h/0?socket_timeout=1") == "redis://h/0?socket_timeout=1"
    assert with_timeouts("amqp://guest:guest@h:5672/%2F") == "amqp://guest:guest@h:5672/%2F"


@pytest.fixture(scope="module")
def stall_server(new_database, api_logs: Path, redis8) -> Iterator[ApiServer]:
    api = ApiServer(new_database(), api_logs, UGEN_API_SWEEP_INTERVAL_S="0.3", UGEN_API_STALL_AFTER_S="2").start()
    yield api
    api.stop()


def test_a_job_the_worker_goes_silent_on_is_failed_with_its_credits_released(stall_server: ApiServer):
    import secrets

    from tests.api.support import WebhookReceiver

    hooks = WebhookReceiver(secrets.token_hex(32)).start()
    try:
        account = stall_server.new_account()
        account.client.put("/api/v1/tenants/me/webhook", json={"webhook_url": hooks.url, "webhook_secret": hooks.secret})
        silent, chatty = (account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(2))
        for seq in range(1, 9):  # `chatty` reports every half second; `silent` only once
            if seq == 1:
                stall_server.post_event({"job_id": silent, "attempt": 1, "status": "processing",
                                         "current_stage": "agents", "progress_percent": 5.0, "seq": 1})
            stall_server.post_event({"job_id": chatty, "attempt": 1, "status": "processing",
                                     "current_stage": "generation", "progress_percent": 5.0 + seq, "seq": seq})
            time.sleep(0.5)
        job = account.client.get(f"/api/v1/jobs/{silent}").json()
        assert job["status"] == "failed" and job["error"]["code"] == "JOB_STALLED"
        assert account.client.get(f"/api/v1/jobs/{chatty}").json()["status"] == "processing"
        assert account.client.get("/api/v1/credits/balance").json()["credit_reserved"] == 70  # chatty's only
        [delivery] = hooks.wait_for(1, timeout_s=5)
        assert (delivery.body["event"], delivery.body["job_id"]) == ("job.failed", silent)
    finally:
        hooks.stop()


def test_jobs_can_be_sent_through_rabbitmq_too(new_database, api_logs: Path):
    import uuid

    import pika

    from tests.support.jobs import RABBITMQ_URL

    queue = f"api-test-{uuid.uuid4().hex[:8]}"
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=RABBITMQ_URL, UGEN_QUEUE=queue).start()
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        account = api.new_account()
        job_ids = {account.client.post("/api/v1/jobs", json=job_body()).json()["job_id"] for _ in range(3)}
        channel = connection.channel()
        deadline, sent = time.monotonic() + 10, set()
        while sent != job_ids and time.monotonic() < deadline:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                time.sleep(0.1)
                continue
            sent.add(json.loads(body)["args"][0]["job_id"])
        assert sent == job_ids
    finally:
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            connection.channel().queue_delete(name)
        connection.close()
        api.stop()
