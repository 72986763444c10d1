"""OpenTelemetry traces, optional: a no-op unless the `otel` extra is installed and a standard
OTEL_* variable turns them on.

    setup_tracing("ugen-worker")           # once per process; False when tracing stays off
    carrier = inject()                     # {"traceparent": "00-...", "tracestate": ...} or {}
    job = begin("render_job", carrier=carrier, attributes={"job_id": "j1"}, current=True)
    stage = begin("stage generation", parent=job, attributes={"stage": "generation"})
    finish(stage); finish(job, error=exc)  # an error is recorded with its code
    current_ids()                          # {"trace_id": "4bf9...", "span_id": "00f0..."} or {}
    stop_tracing()                         # flushes what is still queued

On when OTEL_TRACES_EXPORTER names an exporter (`otlp`: OTLP over HTTP, `console`: stdout) or
OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (then `otlp`); off
when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. The exporter reads its own standard
variables (endpoint, headers, timeout; OTEL_BSP_* for the batch processor); OTEL_SERVICE_NAME
overrides the service name given here. Context travels as W3C trace context. This is the one
module that imports opentelemetry; every function here does nothing when tracing is off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console")
_state: dict[str, Any] = {"provider": None, "tracer": None}


def exporter_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """The exporter the standard variables ask for, or None when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    name = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not name and (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        name = "otlp"
    if name in ("", "none"):
        return None
    if name not in EXPORTERS:
        raise ValueError(f"OTEL_TRACES_EXPORTER must be one of none, {', '.join(EXPORTERS)}, got {name!r}")
    return name


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def setup_tracing(service_name: str, *, environ: Mapping[str, str] = os.environ, exporter: Any = None) -> bool:
    """Starts tracing for this process. `exporter` (a test's InMemorySpanExporter) is used as
    given, synchronously; otherwise the environment decides and spans go out in batches."""
    name = "given" if exporter is not None else exporter_from_env(environ)
    if name is None:
        return False
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        processor = SimpleSpanProcessor(exporter) if exporter is not None else BatchSpanProcessor(_exporter(name))
    except ImportError as exc:
        log.warning("tracing stays off: %s (pip install 'ugen-engine[otel]')", exc)
        return False
    stop_tracing()
    own = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(own))
    provider.add_span_processor(processor)
    _state.update(provider=provider, tracer=provider.get_tracer("ugen-engine"))
    log.info("tracing on: %s spans of %s", name, service_name)
    return True


def stop_tracing() -> None:
    """Exports what is queued and turns tracing off."""
    provider, _state["provider"], _state["tracer"] = _state["provider"], None, None
    if provider is not None:
        provider.shutdown()


def enabled() -> bool:
    return _state["tracer"] is not None


@dataclass
class Opened:
    """A started span, and the token that made it current (if it was)."""

    span: Any
    token: Any = None

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")


def _parent_context(carrier: Mapping[str, str] | None, parent: Opened | None) -> Any:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if parent is not None:
        return trace.set_span_in_context(parent.span)
    if carrier is not None:
        return TraceContextTextMapPropagator().extract(dict(carrier))
    return None  # the current context


def begin(name: str, *, carrier: Mapping[str, str] | None = None, parent: Opened | None = None,
          attributes: Mapping[str, Any] | None = None, kind: str = "internal", current: bool = False) -> Opened | None:
    """Starts a span: the child of `parent`, else of the context in `carrier` (a job message's
    `traceparent`), else of the current span. `kind`: internal, server or consumer. With
    `current`, logs and `inject()` on this thread see it until `finish`."""
    tracer = _state["tracer"]
    if tracer is None:
        return None
    from opentelemetry import context, trace

    span = tracer.start_span(name, context=_parent_context(carrier, parent), kind=trace.SpanKind[kind.upper()],
                             attributes={k: v for k, v in (attributes or {}).items() if v is not None})
    token = context.attach(trace.set_span_in_context(span)) if current else None
    return Opened(span, token)


def record_error(opened: Opened | None, error: BaseException) -> None:
    """The error's stable code (engine/errors.py) as `error.code`, its message as the status."""
    if opened is None:
        return
    from opentelemetry.trace import Status, StatusCode

    opened.span.set_attribute("error.code", str(getattr(error, "code", type(error).__name__)))
    opened.span.record_exception(error)
    opened.span.set_status(Status(StatusCode.ERROR, str(error)[:200]))


def mark_error(opened: Opened | None, description: str) -> None:
    """Marks the span as failed without an exception (an HTTP 5xx answer)."""
    if opened is None:
        return
    from opentelemetry.trace import Status, StatusCode

    opened.span.set_status(Status(StatusCode.ERROR, description))


def finish(opened: Opened | None, *, error: BaseException | None = None, **attributes: Any) -> None:
    if opened is None:
        return
    from opentelemetry import context

    for key, value in attributes.items():
        if value is not None:
            opened.span.set_attribute(key, value)
    if error is not None:
        record_error(opened, error)
    if opened.token is not None:
        context.detach(opened.token)
    opened.span.end()


def inject(carrier: dict[str, str] | None = None) -> dict[str, str]:
    """The current span's W3C context (`traceparent`, `tracestate`) added to `carrier`."""
    carrier = {} if carrier is None else carrier
    if _state["tracer"] is not None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        TraceContextTextMapPropagator().inject(carrier)
    return carrier


def current_ids() -> dict[str, str]:
    """The current span's trace and span ids as hex, or {} outside a span or with tracing off."""
    if _state["tracer"] is None:
        return {}
    from opentelemetry import trace

    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {"trace_id": format(span_context.trace_id, "032x"), "span_id": format(span_context.span_id, "016x")}
