"""Traces in the API: a span per request named after its route, the request's context in the
job message; and across processes, a job POSTed to a real API server and rendered by a real
worker process, both exporting OTLP/HTTP to a receiver in the test: the worker's job span is the
child of the API's request span, with a span per render stage, and its events and logs carry the trace."""

from __future__ import annotations

import json
import time

import pytest

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.client import UGenClient
from api.dispatch import worker_message
from api.settings import ApiSettings
from api.tables import Job
from api.tracing import RequestSpans
from engine.tracing import begin, finish
from tests.api.support import ApiServer
from tests.support.otlp import OtlpReceiver

pytest_plugins = ["tests.support.fixtures", "tests.support.tracing"]  # real Redis, S3, workers; spans

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

STAGES = ("prepare", "agents", "init", "generation", "concat", "audio", "captions", "complete")


def small_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestSpans)

    @app.get("/items/{item_id}")
    def item(item_id: str) -> dict:
        if item_id == "boom":
            raise RuntimeError("boom")
        return {"id": item_id}

    return app


def test_each_request_gets_a_server_span_named_after_its_route_under_the_callers_traceparent(spans):
    with TestClient(small_app(), raise_server_exceptions=False) as client:
        assert client.get("/items/7", headers={"traceparent": PARENT}).status_code == 200
        assert client.get("/items/boom").status_code == 500
    ok, failed = spans.get_finished_spans()
    assert (ok.name, ok.kind.name, ok.attributes["http.route"]) == ("GET /items/{item_id}", "SERVER", "/items/{item_id}")
    assert (ok.attributes["url.path"], ok.attributes["http.response.status_code"]) == ("/items/7", 200)
    assert f"{ok.context.trace_id:032x}" == PARENT.split("-")[1] and ok.status.status_code.name == "UNSET"
    assert failed.parent is None and failed.attributes["http.response.status_code"] == 500
    assert failed.status.status_code.name == "ERROR"


def test_the_job_message_carries_the_current_spans_context_and_nothing_outside_a_span(spans):
    job = Job(id="job-1", attempt=1, spec={"product_name": "Cups"})
    settings = ApiSettings(database_url="sqlite://")
    assert "trace" not in worker_message(settings, job)["delivery"]
    request = begin("POST /api/v1/jobs", current=True)
    delivery = worker_message(settings, job)["delivery"]
    finish(request)
    [(key, value)] = delivery["trace"].items()  # no tracestate without one coming in
    assert key == "traceparent" and value.startswith(f"00-{request.trace_id}-{request.span.get_span_context().span_id:016x}-")


def tracing_env(receiver: OtlpReceiver) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200"}


def finished(ugen: UGenClient, job_id: str, *, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (job := ugen.get_job(job_id)).finished:
            return job.status
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} not finished after {timeout_s} s")


def has_job_spans(spans: list[dict]) -> bool:
    names = {span["name"] for span in spans}
    return "render_job" in names and "POST /api/v1/jobs" in names and "stage complete" in names


@pytest.mark.integration
def test_the_workers_job_span_is_the_child_of_the_apis_request_with_a_span_per_stage(
        start_worker, product_url, new_database, api_logs):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason="the otel extra is not installed")
    receiver = OtlpReceiver().start()
    worker = start_worker(UGEN_LOG_FORMAT="json", **tracing_env(receiver))
    api = ApiServer(new_database(), api_logs, UGEN_BROKER_URL=worker.env["UGEN_BROKER_URL"],
                    UGEN_QUEUE=worker.env["UGEN_QUEUE"], **tracing_env(receiver)).start()
    try:
        ugen = UGenClient(api.url, api_key=api.new_account(credits=1000).key)
        spec = {"product_name": "Espresso Cups", "product_image_url": product_url, "video_resolution": "draft",
                "segment_count": 1, "segment_duration": 3, "persona_id": "grace", "seed": 1}
        job_id = ugen.create_job(spec).job_id
        assert finished(ugen, job_id, timeout_s=240) == "completed", (worker.log()[-3000:], api.log()[-3000:])
        spans = receiver.wait_for(has_job_spans, timeout_s=30)
    finally:
        api.stop()
        receiver.stop()

    [post] = [s for s in spans if s["name"] == "POST /api/v1/jobs"]
    [job] = [s for s in spans if s["name"] == "render_job"]
    assert (post["service"], job["service"]) == ("ugen-api", "ugen-worker")
    assert post["attributes"]["http.response.status_code"] == 201 and post["parent_span_id"] == ""
    assert (job["trace_id"], job["parent_span_id"]) == (post["trace_id"], post["span_id"])
    assert (job["attributes"]["job_id"], job["attributes"]["attempt"]) == (job_id, 1)
    assert job["attributes"]["outcome"] == "completed"
    stages = [s for s in spans if s["name"].startswith("stage ")]
    assert sorted(s["attributes"]["stage"] for s in stages) == sorted(STAGES)
    assert all(s["parent_span_id"] == job["span_id"] and s["trace_id"] == post["trace_id"] for s in stages)

    trace_id = post["trace_id"]
    assert f"job {job_id}: completed event at complete, trace {trace_id}" in api.log()
    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    assert any(line["job_id"] == job_id and line["trace_id"] == trace_id and line["span_id"] == job["span_id"]
               for line in lines)
