"""Fixtures for the worker tests: real Redis, RabbitMQ and S3 (SeaweedFS), a recording API.

A test module loads them with `pytest_plugins = ["tests.support.fixtures"]`.
Every test gets its own queue, bucket and work dir, and every process it starts is killed on
teardown, so a failing test leaves nothing running.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from engine.settings import REPO_ROOT
from engine.worker.outbox import PENDING
from tests.support.jobs import RABBITMQ_URL, REDIS_URL
from tests.support.s3_proxy import S3Proxy
from tests.support.seaweed import ACCESS, SeaweedS3, free_port
from tests.support.servers import EventRecorder, StaticFiles
from tests.support.workers import WorkerProcess

PRODUCT = REPO_ROOT / "configs" / "jobs" / "espresso_cup.png"


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}): run .ci/services.sh")
    client.flushdb()
    return client


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def bucket(s3_server: SeaweedS3) -> Iterator[str]:
    name = f"ugen-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    yield name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_proxy(s3_server: SeaweedS3) -> Iterator[S3Proxy]:
    proxy = S3Proxy(s3_server.endpoint_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def api() -> Iterator[EventRecorder]:
    recorder = EventRecorder(secret=secrets.token_hex(32)).start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="session")
def product_url() -> Iterator[str]:
    files = StaticFiles({"/espresso_cup.png": PRODUCT.read_bytes()}).start()
    yield files.url("/espresso_cup.png")
    files.stop()


@pytest.fixture
def worker_env(tmp_path: Path, redis_client: redis.Redis, s3_proxy: S3Proxy, bucket: str) -> dict[str, str]:
    """Settings for a worker on Redis with S3 behind the counting proxy; tests override freely."""
    import os

    return {
        **os.environ, **{k.upper(): v for k, v in ACCESS.items()},
        "UGEN_BROKER_URL": REDIS_URL, "UGEN_REDIS_URL": REDIS_URL,
        "UGEN_QUEUE": f"renders-{uuid.uuid4().hex[:8]}",
        "UGEN_TEST_ALLOW_PRIVATE_URLS": "1", "UGEN_WORK_ROOT": str(tmp_path / "work"),
        "UGEN_CACHE_DIR": str(REPO_ROOT / ".cache"),
        "UGEN_STORAGE": "s3", "UGEN_S3_ENDPOINT_URL": s3_proxy.endpoint_url, "UGEN_S3_BUCKET": bucket,
        "UGEN_S3_URL_MODE": "public", "UGEN_UPLOAD_RETRY_S": "30",
        "UGEN_LIVENESS_DIR": str(tmp_path / "alive"),
        "UGEN_MIN_BACKOFF_S": "1", "UGEN_MAX_BACKOFF_S": "2", "UGEN_MAX_RETRIES": "3",
        "UGEN_LEASE_TTL_S": "6", "UGEN_LEASE_BUSY_DELAY_S": "2",
        "UGEN_REDIS_HEARTBEAT_TIMEOUT_S": "5", "UGEN_REDIS_MAINTENANCE_CHANCE": "1000000",
        "UGEN_CALLBACK_MAX_BACKOFF_S": "1", "UGEN_SHUTDOWN_GRACE_S": "60",
    }


@pytest.fixture
def start_worker(tmp_path: Path, worker_env: dict[str, str], redis_client: redis.Redis) -> Iterator[Any]:
    """start_worker(**env_overrides) -> a running WorkerProcess; all are killed on teardown."""
    started: list[WorkerProcess] = []

    def start(**overrides: str) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        env = {**worker_env, "UGEN_METRICS_PORT": str(free_port()), **overrides}
        worker = WorkerProcess(env, log_path)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()
    redis_client.delete(PENDING)  # this test's API is gone: later workers need not retry its events


@pytest.fixture
def rabbitmq_queues() -> Iterator[str]:
    """A queue name of its own on RabbitMQ; the queue and its delay and dead-letter queues are
    deleted afterwards."""
    import pika

    name = f"renders-{uuid.uuid4().hex[:8]}"
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue)
    finally:
        connection.close()
