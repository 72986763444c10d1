"""Uploads are fenced: a worker whose lease was taken over while its upload hung can neither
overwrite what the new holder committed nor record a failure over the new holder's result.

Two job runners in this process share one job on real Redis and real S3 (SeaweedFS); the
first one's storage holds its puts until the test has handed the lease to the second."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dramatiq import Message

from engine.errors import StorageError
from engine.settings import REPO_ROOT, FetchLimits, Settings
from engine.worker import broker_from_url
from engine.worker.idempotency import JobKeys, ResultStore
from engine.worker.middleware.job_context import build_context
from engine.worker.runner import JobRunner
from engine.worker.runtime import Runtime
from engine.worker.settings import WorkerSettings
from engine.worker.storage import StorageSettings
from tests.support.jobs import REDIS_URL, make_job

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, API

pytestmark = pytest.mark.integration


class HeldStorage:
    """Wraps a real storage: each put may wait for `release` (and then fail); records the md5
    of every file it stores."""

    def __init__(self, storage, *, hold: bool) -> None:
        self.storage, self.hold, self.fail = storage, hold, False
        self.entered, self.release = threading.Event(), threading.Event()
        self.md5: dict[str, str] = {}

    def put(self, name: str, path: Path):
        if self.hold:
            self.entered.set()
            assert self.release.wait(120), "the test never released this put"
        if self.fail:
            raise StorageError(f"upload of {name} failed: injected after the takeover")
        self.md5[name] = hashlib.md5(path.read_bytes()).hexdigest()
        return self.storage.put(name, path)


@pytest.fixture
def runner(tmp_path: Path, s3_server, bucket: str):
    """runner(name, hold=...) -> (a booted JobRunner on real Redis and S3, its HeldStorage)."""
    runtimes: list[Runtime] = []

    def make(name: str, *, hold: bool) -> tuple[JobRunner, HeldStorage]:
        engine = Settings(work_root=tmp_path / name, cache_dir=REPO_ROOT / ".cache",
                          fetch=FetchLimits(allow_private_addresses=True))
        settings = WorkerSettings(engine=engine, redis_url=REDIS_URL, broker_url=REDIS_URL, lease_ttl_s=6,
                                  max_retries=0, shutdown_grace_s=1)
        storage = StorageSettings(kind="s3", s3_bucket=bucket, url_mode="public", upload_retry_s=0)
        runtime = Runtime(settings, storage)
        runtime._s3 = s3_server.client()  # the test server's client, credentials included
        runtime.boot()
        runtimes.append(runtime)
        held = HeldStorage(None, hold=hold)

        def storage_for(context, *, lease_token: str = ""):  # the real storage for the job, wrapped
            if held.storage is None:
                held.storage = Runtime.storage_for(runtime, context, lease_token=lease_token)
            return held

        runtime.storage_for = storage_for
        return JobRunner(runtime, broker_from_url(REDIS_URL)), held

    yield make
    for runtime in runtimes:
        runtime.close()


def context_for(runner_: JobRunner, job: dict):
    message = Message(queue_name="fencing-test", actor_name="render_job", args=(job,), kwargs={}, options={})
    return build_context(message, runner_.runtime.parse)


def in_thread(call) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def take_over(redis_client, job_id: str) -> None:
    """What a lease expiry during a long pause amounts to: the key is gone, anyone may take it."""
    redis_client.delete(JobKeys(job_id).lease)


def test_a_stale_worker_cannot_overwrite_the_video_the_new_holder_committed(
        runner, s3_server, bucket, api, product_url, redis_client):
    stale, stale_puts = runner("a", hold=True)
    fresh, fresh_puts = runner("b", hold=False)
    job = make_job(product_url, api)
    # Another seed for the stale copy: two renders of one job need not be byte-identical.
    thread, _ = in_thread(lambda: stale.run(context_for(stale, {**job, "seed": 2})))
    assert stale_puts.entered.wait(120), "the stale runner never reached its upload"
    take_over(redis_client, job["job_id"])
    fresh.run(context_for(fresh, job))
    stale_puts.release.set()
    thread.join(120)
    event = ResultStore(redis_client).get(job["job_id"]).event
    assert event["status"] == "completed"
    key = urlsplit(event["final_video_url"]).path.split(f"/{bucket}/", 1)[1]
    stored = s3_server.client().head_object(Bucket=bucket, Key=key)
    assert stored["ETag"].strip('"') == fresh_puts.md5["final.mp4"] != stale_puts.md5["final.mp4"]
    assert stored["ContentLength"] == event["size_bytes"]


def test_a_stale_worker_cannot_record_a_failure_over_the_new_holders_result(
        runner, s3_server, bucket, api, product_url, redis_client):
    stale, stale_puts = runner("a", hold=True)
    fresh, fresh_puts = runner("b", hold=True)
    job = make_job(product_url, api)
    stale_thread, _ = in_thread(lambda: stale.run(context_for(stale, job)))
    assert stale_puts.entered.wait(120)
    take_over(redis_client, job["job_id"])
    fresh_thread, fresh_errors = in_thread(lambda: fresh.run(context_for(fresh, job)))
    assert fresh_puts.entered.wait(120)  # the new holder has the lease and is uploading
    stale_puts.fail = True
    stale_puts.release.set()
    stale_thread.join(120)
    fresh_puts.release.set()
    fresh_thread.join(120)
    assert not fresh_errors
    assert ResultStore(redis_client).get(job["job_id"]).event["status"] == "completed"
