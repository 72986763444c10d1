"""Traces: off by default and without the extra, W3C context in and out, errors with their code,
span ids on JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from engine.errors import ProductImageInvalid
from engine.log_format import use_json_logs
from engine.settings import REPO_ROOT
from engine.tracing import begin, current_ids, exporter_from_env, finish, inject

pytest_plugins = ["tests.support.tracing"]

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_standard_variables_turn_tracing_on_and_off():
    assert exporter_from_env({}) is None
    assert exporter_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) == "otlp"
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}) == "console"
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}) is None
    assert exporter_from_env({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}) is None
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_with_tracing_off_every_call_is_a_no_op():
    opened = begin("render_job", carrier={"traceparent": PARENT}, current=True)
    assert opened is None and inject() == {} and current_ids() == {}
    finish(opened, error=RuntimeError("x"))


def test_a_span_started_from_a_carrier_is_the_child_of_the_remote_span_and_is_injected_onward(spans):
    job = begin("render_job", carrier={"traceparent": PARENT}, attributes={"job_id": "j1"}, current=True)
    carrier = inject()
    stage = begin("stage generation", parent=job, attributes={"stage": "generation"})
    finish(stage)
    finish(job)
    assert current_ids() == {}
    stage_span, job_span = spans.get_finished_spans()
    assert format(job_span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert format(job_span.parent.span_id, "016x") == "00f067aa0ba902b7" and job_span.parent.is_remote
    assert stage_span.parent.span_id == job_span.context.span_id
    assert carrier["traceparent"] == f"00-{job.trace_id}-{job_span.context.span_id:016x}-01"
    assert (job_span.attributes["job_id"], stage_span.attributes["stage"]) == ("j1", "generation")


def test_an_error_is_recorded_with_its_stable_code(spans):
    opened = begin("render_job")
    finish(opened, error=ProductImageInvalid("not an image"))
    [span] = spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR" and span.attributes["error.code"] == "PRODUCT_IMAGE_INVALID"
    assert span.events[0].name == "exception"


def test_json_log_lines_carry_the_current_trace_and_span_ids(spans):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    use_json_logs([handler])
    log = logging.getLogger("test.tracing.json")
    log.handlers, log.propagate, log.level = [handler], False, logging.INFO
    log.info("outside")
    opened = begin("render_job", current=True)
    log.info("inside")
    finish(opened)
    outside, inside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (outside["trace_id"], outside["span_id"]) == (None, None)
    span = spans.get_finished_spans()[0].context
    assert (inside["trace_id"], inside["span_id"]) == (f"{span.trace_id:032x}", f"{span.span_id:016x}")


@pytest.mark.parametrize(("module", "blocked"), [
    ("engine.worker.app", "opentelemetry"),  # a worker install has no opentelemetry at all
    ("api.app", "opentelemetry.sdk"),  # FastAPI itself needs opentelemetry-api, so only the SDK is missing
])
def test_the_worker_and_the_api_run_without_the_otel_extra_even_when_tracing_is_asked_for(module, blocked):
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ImportError("no " + name)
sys.meta_path.insert(0, Block())
import {module}
from engine.tracing import begin, inject, setup_tracing
assert not setup_tracing("ugen-test")
assert begin("render_job") is None and inject() == {{}}
print("ok")
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "OTEL_TRACES_EXPORTER": "otlp"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert "tracing stays off" in done.stderr and "ugen-engine[otel]" in done.stderr
