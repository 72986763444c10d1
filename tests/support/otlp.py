"""A tiny OTLP/HTTP receiver: what the standard exporter of another process posts, as dicts.

    receiver = OtlpReceiver().start()   # OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url for a process
    receiver.wait_for(lambda found: ..., timeout_s=30)   # -> [{"name", "trace_id", ...}, ...]

It decodes what the exporter posts to /v1/traces (protobuf) into plain dicts: name, service,
trace_id, span_id, parent_span_id (hex, "" for a root), kind, status code, attributes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.servers import _Server, reply

Span = dict[str, Any]


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body: bytes) -> list[Span]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request, found = ExportTraceServiceRequest(), []
    request.ParseFromString(body)
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            found += [{"name": s.name, "service": resource.get("service.name"), "trace_id": s.trace_id.hex(),
                       "span_id": s.span_id.hex(), "parent_span_id": s.parent_span_id.hex(), "kind": s.kind,
                       "status": s.status.code, "attributes": {a.key: _value(a.value) for a in s.attributes}}
                      for s in scope_spans.spans]
    return found


class OtlpReceiver(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.spans: list[Span] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        if handler.path == "/v1/traces":
            with self._lock:
                self.spans += decode(body)
        reply(handler, 200, b"", "application/x-protobuf")

    def wait_for(self, done: Callable[[list[Span]], bool], *, timeout_s: float) -> list[Span]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                found = list(self.spans)
            if done(found):
                return found
            time.sleep(0.2)
        raise AssertionError(f"spans not all exported after {timeout_s} s: {[s['name'] for s in found]}")
