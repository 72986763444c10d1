"""The Tracing middleware on a real Dramatiq worker (StubBroker): the job span is the child of
the context in the message, one span per stage, the error's code recorded, the trace id on events."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from dramatiq import Message, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from engine.errors import ProductImageInvalid
from engine.spec import JobSpec
from engine.worker.middleware import JobContextMiddleware, Tracing, current_job

pytest_plugins = ["tests.support.tracing"]

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def run_one(job: dict[str, Any], body: Any) -> list[dict[str, Any]]:
    """Runs `body` as the actor for one message of `job`; returns the events it stamped."""
    broker = StubBroker(middleware=[JobContextMiddleware(JobSpec.model_validate), Tracing(), CurrentMessage()])
    stamped: list[dict[str, Any]] = []

    def render_job(raw: dict[str, Any]) -> None:
        context = current_job()
        stamped.append(context.stamp({"status": "processing"}))
        body(context)

    dramatiq.actor(render_job, actor_name="render_job", queue_name="renders", broker=broker)
    broker.declare_queue("renders")
    broker.enqueue(Message(queue_name="renders", actor_name="render_job", args=(job,), kwargs={}, options={}))
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        broker.join("renders", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    return stamped


def job(**delivery: Any) -> dict[str, Any]:
    return {"job_id": "job-t1", "product_name": "Cups", "product_image_url": "https://example.com/c.png",
            "segment_count": 1, "segment_duration": 3, "delivery": {"attempt": 2, **delivery}}


def three_stages(context: Any) -> None:
    for stage in ("prepare", "prepare", "generation", "generation", "complete"):
        context.progress(stage, 50.0)


def test_the_job_span_is_the_child_of_the_messages_context_with_a_span_per_stage(spans):
    stamped = run_one(job(trace={"traceparent": PARENT}), three_stages)
    finished = {span.name: span for span in spans.get_finished_spans()}
    assert sorted(finished) == ["render_job", "stage complete", "stage generation", "stage prepare"]
    job_span = finished.pop("render_job")
    assert f"{job_span.context.trace_id:032x}" == TRACE and f"{job_span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert (job_span.attributes["job_id"], job_span.attributes["attempt"]) == ("job-t1", 2)
    assert job_span.kind.name == "CONSUMER" and job_span.status.status_code.name == "UNSET"
    for name, span in finished.items():
        assert span.parent.span_id == job_span.context.span_id
        assert (span.attributes["stage"], span.attributes["job_id"]) == (name.split()[1], "job-t1")
    assert stamped == [{"status": "processing", "trace_id": TRACE}]


def test_a_failed_job_records_the_errors_code_on_the_job_and_on_its_stage(spans):
    def fail_in_prepare(context: Any) -> None:
        context.progress("prepare", 1.0)
        raise ProductImageInvalid("not an image")

    run_one(job(), fail_in_prepare)
    by_name = {span.name: span for span in spans.get_finished_spans()}
    for name in ("render_job", "stage prepare"):
        assert by_name[name].status.status_code.name == "ERROR"
        assert by_name[name].attributes["error.code"] == "PRODUCT_IMAGE_INVALID"
    assert by_name["render_job"].parent is None  # no context in the message: a trace of its own


def test_with_tracing_off_the_middleware_adds_nothing_to_the_job():
    stamped = run_one(job(trace={"traceparent": PARENT}), three_stages)
    assert stamped == [{"status": "processing"}]


@pytest.mark.parametrize("trace", [{"traceparent": "garbage"}, {}])
def test_a_missing_or_broken_traceparent_starts_a_new_trace(spans, trace):
    run_one(job(trace=trace), three_stages)
    [job_span] = [span for span in spans.get_finished_spans() if span.name == "render_job"]
    assert job_span.parent is None and job_span.context.trace_id != int(TRACE, 16)
