"""The `spans` fixture: an in-memory exporter behind engine.tracing for one test.

    pytest_plugins = ["tests.support.tracing"]
    def test_x(spans):
        ...; spans.get_finished_spans()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.tracing import setup_tracing, stop_tracing


@pytest.fixture
def spans() -> Iterator[Any]:
    """An InMemorySpanExporter that engine.tracing exports to for this test."""
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    assert setup_tracing("ugen-test", exporter=exporter)
    yield exporter
    stop_tracing()
