"""Redis (the broker and the job state) unreachable for 40 s in the middle of a render: after it
comes back the job ends completed or failed, reported to the API, never lost and never left
only in the dead-letter queue."""

from __future__ import annotations

import time

import pytest

from engine.worker import broker_from_url, send_job
from tests.support.jobs import REDIS_URL, make_job
from tests.support.servers import terminal
from tests.support.tcp_proxy import CuttableProxy

pytest_plugins = ["tests.support.fixtures"]  # real Redis, S3, API

pytestmark = pytest.mark.integration
OUTAGE_S = 40


def dead_letters(redis_client, queue: str) -> list[bytes]:
    """The message ids Dramatiq's Redis broker holds in the queue's dead-letter set."""
    return redis_client.zrange(f"dramatiq:{queue}.XQ", 0, -1)


def test_a_redis_outage_of_40_s_mid_render_still_ends_the_job_and_reports_it(
        start_worker, api, product_url, bucket, redis_client):
    proxy = CuttableProxy(target_port=6379).start()
    through_proxy = REDIS_URL.replace(":6379/", f":{proxy.port}/")
    worker = start_worker(UGEN_BROKER_URL=through_proxy, UGEN_REDIS_URL=through_proxy)
    queue = worker.env["UGEN_QUEUE"]
    job = make_job(product_url, api, segments=2)
    send_job(broker_from_url(REDIS_URL), job, queue=queue)  # straight to Redis, not through the proxy
    try:
        api.wait_for(lambda events: any(e["current_stage"] == "init" for e in events),
                     job_id=job["job_id"], timeout_s=120)
        proxy.cut()
        time.sleep(OUTAGE_S)
        proxy.restore()
        events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=180)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\ndead letters: {dead_letters(redis_client, queue)}\n"
                             f"worker log:\n{worker.log()[-4000:]}") from None
    finally:
        proxy.stop()
    final = events[-1]
    assert final["status"] in ("completed", "failed"), final
    if final["status"] == "completed":
        assert not dead_letters(redis_client, queue)
