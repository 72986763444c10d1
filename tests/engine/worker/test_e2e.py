"""End to end: a job sent like the API sends it, rendered by a separate worker process, uploaded
to a real S3 server, its progress delivered signed to a real HTTP server. Redis and RabbitMQ."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

import pytest

from engine.settings import REPO_ROOT
from engine.spec import STAGES
from engine.worker import broker_from_url, send_job
from tests.conftest import ffprobe
from tests.support.jobs import RABBITMQ_URL, make_job
from tests.support.seaweed import free_port
from tests.support.servers import terminal

pytest_plugins = ["tests.support.fixtures"]  # real Redis, RabbitMQ, S3, API

pytestmark = pytest.mark.integration


def assert_contract(events: list[dict], job_id: str, bucket: str) -> dict:
    """The event stream of one successful job, as ARCHITECTURE.md promises it."""
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    percents = [e["progress_percent"] for e in events]
    assert percents == sorted(percents), percents
    assert all(e["current_stage"] in STAGES for e in events)
    assert [e["status"] for e in events][-1] == "completed"
    assert all(e["status"] == "processing" for e in events[:-1])
    stages_seen = list(dict.fromkeys(e["current_stage"] for e in events))
    assert stages_seen == [s for s in STAGES if s in stages_seen]  # in U-Gen's order
    assert {"prepare", "generation", "complete"} <= set(stages_seen)
    final = events[-1]
    assert final["progress_percent"] == 100
    # Under the key of the lease that committed it (the fence against stale workers' uploads).
    assert re.search(rf"/{bucket}/renders/{job_id}/[0-9a-f]{{32}}/final\.mp4$", final["final_video_url"])
    key = final["final_video_url"].split(f"/{bucket}/")[1]
    assert final["objects"]["final.mp4"] == {"bucket": bucket, "key": key}
    assert final["size_bytes"] > 10_000
    assert 2.0 < final["duration_s"] < 10.0
    assert (final["width"], final["height"]) == (360, 640)
    assert 0.55 <= final["qa_score"] <= 1.0  # passed the gate at the default (lenient) mode
    return final


def run_one_job(start_worker, api, product_url, bucket, s3_proxy, tmp_path, **env):
    worker = start_worker(**env)
    job = make_job(product_url, api)
    broker = broker_from_url(worker.env["UGEN_BROKER_URL"])
    send_job(broker, job, queue=worker.env["UGEN_QUEUE"])
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=120)
    final = assert_contract(events, job["job_id"], bucket)
    video = urllib.request.urlopen(final["final_video_url"], timeout=10).read()
    assert len(video) == final["size_bytes"]
    downloaded = tmp_path / "final.mp4"
    downloaded.write_bytes(video)
    probe = ffprobe(downloaded)
    assert float(probe["format"]["duration"]) == pytest.approx(final["duration_s"], abs=0.1)
    assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
    assert s3_proxy.writes(f"/{bucket}/{final['objects']['final.mp4']['key']}") == 1
    assert not api.bad_signatures
    return worker, job, events


def test_a_job_sent_through_redis_is_rendered_uploaded_and_reported_in_order(
        start_worker, api, product_url, bucket, s3_proxy, tmp_path, ffprobe_available):
    worker, job, events = run_one_job(start_worker, api, product_url, bucket, s3_proxy, tmp_path)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{worker.env['UGEN_METRICS_PORT']}/metrics").read().decode()
    assert 'ugen_jobs_total{outcome="completed"} 1.0' in metrics
    assert "ugen_stage_duration_seconds_count{stage=\"generation\"} 1.0" in metrics
    assert "ugen_queue_wait_seconds_count 1.0" in metrics
    assert "ugen_render_seconds_per_video_second_count 1.0" in metrics
    probe = subprocess.run([sys.executable, "-m", "engine.worker", "check"], env=worker.env, cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0, probe.stdout


def test_a_job_sent_through_rabbitmq_is_rendered_uploaded_and_reported_in_order(
        start_worker, api, product_url, bucket, s3_proxy, tmp_path, ffprobe_available, rabbitmq_queues):
    run_one_job(start_worker, api, product_url, bucket, s3_proxy, tmp_path, UGEN_BROKER_URL=RABBITMQ_URL,
                UGEN_QUEUE=rabbitmq_queues)


def test_a_job_that_cannot_succeed_fails_at_once_with_its_error_code(start_worker, api, product_url):
    worker = start_worker()
    broker = broker_from_url(worker.env["UGEN_BROKER_URL"])
    invalid = make_job(product_url, api, segment_count=0)
    missing_image = make_job(product_url.replace("espresso_cup.png", "gone.png"), api)
    for job in (invalid, missing_image):
        send_job(broker, job, queue=worker.env["UGEN_QUEUE"])
    for job, code in ((invalid, "INVALID_JOB_SPEC"), (missing_image, "PRODUCT_IMAGE_UNREACHABLE")):
        events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=60)
        assert events[-1]["status"] == "failed" and events[-1]["error"]["code"] == code
        assert events[-1]["attempt"] == 1 and not any("retrying" in e["message"] for e in events)
        assert "Traceback" not in events[-1]["message"]


DARK_CAPTIONS = {"text_colour": "#2A2A2A", "highlight_colour": "#3A3A10"}  # on a black outline


def test_a_video_that_fails_qa_after_its_retry_fails_with_qa_failed_and_the_figures(
        start_worker, api, product_url):
    worker = start_worker()
    job = make_job(product_url, api, segments=2, custom_caption_options=DARK_CAPTIONS,
                   max_retries_video=1)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=180)
    error = events[-1]["error"]
    assert events[-1]["status"] == "failed" and error["code"] == "QA_FAILED"
    captions = error["details"]["failing_checks"]["captions"]
    assert "contrast" in captions["failing"] and captions["figures"]["contrast_p10"] < 2.0
    assert error["details"]["retries_used"] == 1 and error["details"]["threshold"] == 0.55
    # The retry is announced with its reason, then the stages run again from agents.
    [notice] = [e for e in events if e["message"].startswith("QA scored")]
    assert notice["current_stage"] == "complete" and notice["status"] == "processing"
    assert "(captions); rendering again with seed" in notice["message"]
    assert notice["message"].endswith("(retry 1 of 1)")
    after = events[events.index(notice) + 1:]
    assert after[0]["current_stage"] == "agents" and "prepare" not in {e["current_stage"] for e in after}
    assert events[-1]["attempt"] == 1 and not any("retrying" in e["message"] for e in events)


def test_a_render_over_its_time_limit_is_stopped_and_reported_failed(start_worker, api, product_url):
    worker = start_worker(UGEN_TIME_LIMIT_BASE_S="1.5", UGEN_TIME_LIMIT_PER_VIDEO_S="0", UGEN_MAX_RETRIES="0")
    job = make_job(product_url, api, segments=2)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=60)
    assert events[-1]["status"] == "failed" and events[-1]["error"]["code"] == "RENDER_TIMED_OUT"
    assert "time limit" in events[-1]["message"]


def test_a_job_that_hits_its_time_limit_is_retried_once_not_at_full_length_every_time(
        start_worker, api, product_url):
    worker = start_worker(UGEN_TIME_LIMIT_BASE_S="1.5", UGEN_TIME_LIMIT_PER_VIDEO_S="0", UGEN_MAX_RETRIES="3")
    job = make_job(product_url, api, segments=2)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=90)
    assert events[-1]["attempt"] == 2, [(e["attempt"], e["message"]) for e in events if e["attempt"] > 1]
    assert events[-1]["status"] == "failed" and events[-1]["error"]["code"] == "RENDER_TIMED_OUT"


def test_a_storage_failure_reaches_the_customer_without_internal_hosts_paths_or_buckets(
        start_worker, api, product_url, bucket, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: an internal host, unreachable
    worker = start_worker(UGEN_S3_ENDPOINT_URL=closed, UGEN_UPLOAD_RETRY_S="0", UGEN_MAX_RETRIES="0")
    job = make_job(product_url, api)
    send_job(broker_from_url(worker.env["UGEN_BROKER_URL"]), job, queue=worker.env["UGEN_QUEUE"])
    events = api.wait_for(terminal, job_id=job["job_id"], timeout_s=120)
    final = events[-1]
    assert final["status"] == "failed" and final["error"]["code"] == "STORAGE_UNAVAILABLE"
    seen_by_customer = json.dumps([final["message"], final["error"]])
    for internal in ("127.0.0.1", closed.rsplit(":", 1)[1], bucket, str(tmp_path), "/tmp", "Traceback"):
        assert internal not in seen_by_customer, (internal, seen_by_customer)
    assert "127.0.0.1" in worker.log()  # the operator still sees where it failed
