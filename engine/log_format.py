"""Log lines as JSON objects, one per line, behind the UGEN_LOG_FORMAT setting.

    fmt = log_format_from_env()        # "text" (the default) or "json", from UGEN_LOG_FORMAT
    if fmt == "json":
        handler.setFormatter(JsonFormatter(fields=lambda: {"job_id": "j1", "attempt": 1,
                                                           "stage": "generation"}))
    # {"time": "2026-12-02T00:41:07.123Z", "level": "INFO", "logger": "engine.worker.runner",
    #  "message": "...", "job_id": "j1", "attempt": 1, "stage": "generation",
    #  "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}

Every line has the same keys: `job_id`, `attempt` and `stage` are null outside a job. They come
from `fields()` (the worker passes the job it is rendering) unless the record carries them
itself (`log.info(..., extra={"job_id": ...})`). `trace_id` and `span_id` are the current
span's (engine/tracing.py), null when tracing is off or no span is active. A traceback goes in `exc` as one string, so a
line is always one JSON object. Plain text stays the default for reading logs locally.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from engine.tracing import current_ids

LOG_FORMAT_ENV = "UGEN_LOG_FORMAT"
LOG_FORMATS = ("text", "json")
JOB_FIELDS = ("job_id", "attempt", "stage")
TRACE_FIELDS = ("trace_id", "span_id")


def log_format_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """The configured format; raises ValueError naming the variable for anything unknown."""
    value = environ.get(LOG_FORMAT_ENV, "text").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ValueError(f"{LOG_FORMAT_ENV} must be one of {', '.join(LOG_FORMATS)}, got {value!r}")
    return value


def _no_fields() -> dict[str, Any]:
    return {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, message, job fields, exc."""

    def __init__(self, *, fields: Callable[[], Mapping[str, Any]] = _no_fields) -> None:
        super().__init__()
        self._fields = fields

    def format(self, record: logging.LogRecord) -> str:
        context = dict(self._fields() or {})
        line: dict[str, Any] = {
            "time": self._utc(record.created), "level": record.levelname, "logger": record.name,
            "message": record.getMessage(),
        }
        for name in JOB_FIELDS:
            line[name] = getattr(record, name, context.get(name))
        ids = current_ids()
        for name in TRACE_FIELDS:
            line[name] = ids.get(name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=repr, ensure_ascii=False)

    @staticmethod
    def _utc(created: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def use_json_logs(handlers: list[logging.Handler], *,
                  fields: Callable[[], Mapping[str, Any]] = _no_fields) -> None:
    """Give every handler the JSON formatter (their filters stay, so redaction still runs)."""
    for handler in handlers:
        handler.setFormatter(JsonFormatter(fields=fields))
