"""Progress events: their signature, the throttled reporter, the Redis outbox and its relay."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid

import pytest
from prometheus_client import REGISTRY

from engine.errors import ProductImageUnreachable
from engine.reporting import ProgressReporter, encode, failed_event, processing_event, sign, signed_headers
from engine.worker.idempotency import JobKeys, Lease, ResultStore
from engine.worker.outbox import PENDING, Outbox, Relay
from engine.worker.refusals import DeadLetters

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API


def job_id() -> str:
    return f"unit-{uuid.uuid4().hex[:10]}"


def test_the_signature_is_hex_hmac_sha256_of_timestamp_dot_body():
    body = encode({"job_id": "j1", "status": "processing"})
    expected = hmac.new(b"s3cr3t", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cr3t", "1700000000", body) == expected
    headers = signed_headers("s3cr3t", body, now_s=1700000000.7)
    assert headers["X-UGen-Timestamp"] == "1700000000" and headers["X-UGen-Signature"] == expected


def test_without_a_secret_events_go_unsigned_like_ugen_webhooks():
    assert "X-UGen-Signature" not in signed_headers(None, b"{}")


def test_a_failed_event_carries_the_error_in_the_seed_shape_and_no_traceback():
    error = ProductImageUnreachable("product image returned HTTP 404", details={"status": 404})
    body = failed_event(job_id="j", attempt=2, error=error, stage="prepare", percent=3.0)
    assert body["error"] == {"code": "PRODUCT_IMAGE_UNREACHABLE", "message": error.message,
                             "details": {"status": 404}}
    assert (body["status"], body["attempt"], body["current_stage"]) == ("failed", 2, "prepare")


def test_the_reporter_sends_every_stage_change_and_at_most_one_event_a_second_within_a_stage():
    sent: list[tuple[float, str, float]] = []
    reporter = ProgressReporter(lambda stage, pct, message: sent.append((time.monotonic(), stage, pct)),
                                interval_s=0.5)
    stages = ["prepare"] * 5 + ["generation"] * 150 + ["concat"] * 5
    for i, stage in enumerate(stages):
        reporter.update(stage, i * 100 / len(stages))
        time.sleep(0.01)  # about 1.6 s of updates
    reporter.close()
    assert [s for _, s, _ in sent][:1] == ["prepare"]
    assert {"prepare", "generation", "concat"} == {s for _, s, _ in sent}
    within = [b[0] - a[0] for a, b in zip(sent, sent[1:], strict=False) if a[1] == b[1] == "generation"]
    assert within and min(within) >= 0.45
    assert len(sent) <= 3 + 1.6 / 0.5 + 2
    assert sent[-1][1:] == ("concat", (len(stages) - 1) * 100 / len(stages))  # the last update flushed
    assert [p for *_, p in sent] == sorted(p for *_, p in sent)


def test_a_notice_goes_out_in_order_with_its_message_and_is_not_coalesced_away():
    sent: list[tuple[str, float, str | None]] = []
    reporter = ProgressReporter(lambda stage, pct, message: sent.append((stage, pct, message)),
                                interval_s=60.0)  # nothing but stage changes and notices is due
    reporter.update("complete", 97.0)
    reporter.update("complete", 97.5)  # pending: within the interval
    reporter.update("complete", 97.5, message="QA failed; rendering again")
    reporter.update("prepare", 97.5)
    reporter.close()
    assert sent == [("complete", 97.0, None), ("complete", 97.5, None),
                    ("complete", 97.5, "QA failed; rendering again"), ("prepare", 97.5, None)]


def test_the_reporter_never_blocks_the_render_on_a_slow_emit():
    release = threading.Event()
    reporter = ProgressReporter(lambda stage, pct, message: release.wait(5), interval_s=0.0)
    started = time.monotonic()
    for i in range(1000):
        reporter.update("generation", i / 10)
    assert time.monotonic() - started < 0.5
    release.set()
    reporter.close()


@pytest.fixture
def outbox(redis_client):
    return Outbox(redis_client, ttl_s=60, result_ttl_s=60)


def event(job: str, stage: str, percent: float) -> dict:
    return processing_event(job_id=job, attempt=1, stage=stage, percent=percent)


def test_the_outbox_numbers_events_and_keeps_the_percent_from_going_down(outbox):
    job = job_id()
    first = outbox.append(job, event(job, "generation", 40.0))
    second = outbox.append(job, event(job, "prepare", 3.0))  # a retry starting over
    assert (first["seq"], second["seq"]) == (1, 2)
    assert second["progress_percent"] == 40.0 and second["current_stage"] == "prepare"


def test_the_outbox_refuses_progress_after_the_result_and_from_a_lost_lease(outbox, redis_client):
    job = job_id()
    lease = Lease.on_job(redis_client, job, ttl_s=5)
    assert lease.acquire()
    assert outbox.append(job, event(job, "init", 10.0), lease_token=lease.token)
    assert outbox.append(job, event(job, "init", 11.0), lease_token="someone-else") is None
    created, result = outbox.finish(job, {**event(job, "complete", 100.0), "status": "completed"},
                                    delivery_attempt=1)
    assert created and result.event["seq"] == 2
    assert outbox.append(job, event(job, "complete", 100.0), lease_token=lease.token) is None
    again, same = outbox.finish(job, {**event(job, "complete", 100.0), "status": "completed"},
                                delivery_attempt=1)
    assert not again and same.raw_event == result.raw_event
    assert ResultStore(redis_client).get(job).raw_event == result.raw_event
    assert [e["seq"] for e in outbox.pending(job)] == [1, 2]


def test_a_recorded_result_sent_again_is_not_queued_twice(outbox):
    job = job_id()
    _, result = outbox.finish(job, {**event(job, "complete", 100.0), "status": "completed"}, delivery_attempt=1)
    outbox.resend(job, result)
    assert len(outbox.pending(job)) == 1


def test_the_relay_delivers_signed_events_in_order_and_retries_while_the_api_is_down(outbox, redis_client, api):
    job = job_id()
    outbox.register(job, callback_url=api.url, secret=api.secret)
    relay = Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2)
    api.go_down()
    for percent in (1.0, 2.0, 3.0):
        outbox.append(job, event(job, "prepare", percent))
    relay.deliver_due()
    assert len(outbox.pending(job)) == 3 and redis_client.zscore(PENDING, job) > time.time() * 1000
    api.come_up()
    deadline = time.monotonic() + 5
    while outbox.pending(job) and time.monotonic() < deadline:
        relay.deliver_due()
        time.sleep(0.05)
    assert [e["seq"] for e in api.for_job(job)] == [1, 2, 3] and not api.bad_signatures
    assert redis_client.zscore(PENDING, job) is None


def test_the_relay_drops_a_progress_event_the_api_refuses(outbox, redis_client, api):
    job = job_id()
    outbox.register(job, callback_url=api.url, secret=api.secret)
    api.status = 422
    outbox.append(job, event(job, "prepare", 1.0))
    Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2).deliver_due()
    assert outbox.pending(job) == [] and api.for_job(job) == []


def completed(job: str) -> dict:
    return {**event(job, "complete", 100.0), "status": "completed"}


def deliver_until(relay: Relay, done, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        relay.deliver_due()
        time.sleep(0.05)


def refused(status: str, then: str) -> float:
    return REGISTRY.get_sample_value("ugen_events_refused_total", {"status": status, "then": then}) or 0.0


def counted(name: str, reason: str) -> float:
    return REGISTRY.get_sample_value(f"ugen_events_{name}_total", {"reason": reason}) or 0.0


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_terminal_event_refused_for_a_fixable_reason_is_kept_until_the_api_takes_it(
        outbox, redis_client, api, status):
    job = job_id()
    outbox.register(job, callback_url=api.url, secret=api.secret)
    relay = Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2)
    before = refused(str(status), "kept"), refused(str(status), "dropped")
    dropped = counted("dropped", "refused")
    api.status = status
    outbox.append(job, event(job, "generation", 50.0))
    outbox.finish(job, completed(job), delivery_attempt=1)
    deliver_until(relay, lambda: refused(str(status), "kept") >= before[0] + 3, timeout_s=5)
    assert [e["status"] for e in outbox.pending(job)] == ["completed"]  # the progress event was let go
    assert refused(str(status), "dropped") == before[1] + 1
    assert counted("dropped", "refused") == dropped + 1
    api.status = 200  # the clock put right, the secret restored, the right API back
    deliver_until(relay, lambda: not outbox.pending(job), timeout_s=5)
    assert [e["status"] for e in api.for_job(job)] == ["completed"]


def test_a_terminal_event_still_refused_when_its_outbox_ends_is_dead_lettered(redis_client, api):
    job, outbox = job_id(), Outbox(redis_client, ttl_s=2, result_ttl_s=60)
    outbox.register(job, callback_url=api.url, secret=api.secret)
    relay = Relay(redis_client, callback_timeout_s=0.5, max_backoff_s=0.2)
    api.status = 401
    before = counted("dead_lettered", "expired")
    outbox.finish(job, completed(job), delivery_attempt=1)
    deliver_until(relay, lambda: not outbox.pending(job), timeout_s=5)
    assert outbox.pending(job) == []
    assert counted("dead_lettered", "expired") == before + 1
    [entry] = [e for e in DeadLetters(redis_client).entries() if e["job_id"] == job]
    assert entry["event"]["status"] == "completed" and entry["why"] == "refused until its outbox expired"


def test_events_further_apart_than_the_outbox_ttl_still_reach_the_api(redis_client, api):
    job, outbox = job_id(), Outbox(redis_client, ttl_s=1, result_ttl_s=60)
    route = {"callback_url": api.url, "secret": api.secret}
    outbox.register(job, **route)
    outbox.append(job, event(job, "prepare", 1.0), **route)
    relay = Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2)
    relay.deliver_due()
    time.sleep(1.3)  # a long stage: the job's route and numbering expire before its next event
    assert not redis_client.exists(JobKeys(job).state)
    outbox.finish(job, completed(job), delivery_attempt=1, **route)
    deliver_until(relay, lambda: not outbox.pending(job), timeout_s=5)
    assert [e["status"] for e in api.for_job(job)] == ["processing", "completed"] and not api.bad_signatures
    assert not [e for e in DeadLetters(redis_client).entries() if e["job_id"] == job]


def test_a_terminal_event_refused_as_malformed_goes_to_the_dead_letter_list_at_once(outbox, redis_client, api):
    job = job_id()
    outbox.register(job, callback_url=api.url, secret=api.secret)
    api.status = 422
    before = counted("dead_lettered", "refused")
    outbox.finish(job, completed(job), delivery_attempt=1)
    Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2).deliver_due()
    assert outbox.pending(job) == []
    assert counted("dead_lettered", "refused") == before + 1
    [entry] = [e for e in DeadLetters(redis_client).entries() if e["job_id"] == job]
    assert entry["why"].startswith("HTTP 422") and entry["event"]["seq"] == 1


def test_events_for_a_callback_url_that_is_not_http_are_counted_dropped_and_dead_lettered(outbox, redis_client):
    job = job_id()
    outbox.register(job, callback_url="ftp://api.example/events", secret="s")
    before = counted("dropped", "bad_callback_url"), counted("dead_lettered", "bad_callback_url")
    outbox.append(job, event(job, "generation", 50.0))
    outbox.finish(job, completed(job), delivery_attempt=1)
    Relay(redis_client, callback_timeout_s=2, max_backoff_s=0.2).deliver_due()
    assert outbox.pending(job) == []
    assert (counted("dropped", "bad_callback_url"), counted("dead_lettered", "bad_callback_url")) == (
        before[0] + 1, before[1] + 1)
    [entry] = [e for e in DeadLetters(redis_client).entries() if e["job_id"] == job]
    assert entry["event"]["status"] == "completed"
