"""The job lease on real Redis: one holder, renewed while it works, released only by its owner."""

from __future__ import annotations

import time
import uuid

import pytest

from engine.worker.idempotency import JobKeys, Lease, LeaseKeeper, LeaseLost, safe_id

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API


def job_id() -> str:
    return f"lease-{uuid.uuid4().hex[:10]}"


def test_only_one_worker_holds_a_job_at_a_time(redis_client):
    job = job_id()
    mine, theirs = Lease.on_job(redis_client, job, ttl_s=5), Lease.on_job(redis_client, job, ttl_s=5)
    assert mine.acquire() and not theirs.acquire()
    assert not theirs.release() and mine.held()  # a stranger cannot free it
    assert mine.release() and theirs.acquire()


def test_an_expired_lease_cannot_be_renewed_or_released_over_its_successor(redis_client):
    job = job_id()
    old = Lease.on_job(redis_client, job, ttl_s=0.2)
    assert old.acquire()
    time.sleep(0.3)
    new = Lease.on_job(redis_client, job, ttl_s=5)
    assert new.acquire()
    assert not old.renew() and not old.release() and new.held()


def test_the_keeper_renews_the_lease_while_the_render_runs(redis_client):
    lease = Lease.on_job(redis_client, job_id(), ttl_s=0.6)
    assert lease.acquire()
    with LeaseKeeper(lease) as keeper:
        time.sleep(1.5)  # well past the ttl
        keeper.check()
        assert lease.held()


def test_the_keeper_reports_a_lease_taken_over_by_someone_else(redis_client):
    job = job_id()
    lease = Lease.on_job(redis_client, job, ttl_s=0.6)
    assert lease.acquire()
    with LeaseKeeper(lease) as keeper:
        redis_client.set(JobKeys(job).lease, "another-token")
        time.sleep(0.5)
        with pytest.raises(LeaseLost):
            keeper.check()


@pytest.mark.parametrize("raw", ["../../etc/passwd", "a/b", "x" * 200, "", "job id with spaces"])
def test_a_job_id_unsafe_in_a_path_or_key_is_replaced_by_its_digest(raw):
    safe = safe_id(raw)
    assert safe.startswith("h-") and "/" not in safe and len(safe) == 34
    assert safe_id(raw) == safe  # stable, so keys stay stable per job


def test_a_plain_job_id_is_kept_as_it_is():
    assert safe_id("3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b") == "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b"
