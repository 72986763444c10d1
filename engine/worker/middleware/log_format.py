"""JSON log lines with the job's fields, when UGEN_LOG_FORMAT=json.

    JsonLogs()   # in the worker's middleware list; plain text stays the default

Dramatiq's command line sets up logging in each worker process; once it has, every root
handler gets `engine.log_format.JsonFormatter`, which stamps each line with the `job_id`,
`attempt` and `stage` of the job this thread is rendering (null between jobs).
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Middleware

from engine.log_format import log_format_from_env, use_json_logs
from engine.worker.middleware.job_context import current_job


def job_fields() -> dict[str, Any]:
    context = current_job()
    if context is None:
        return {}
    return {"job_id": context.job_id, "attempt": context.attempt, "stage": context.stage}


class JsonLogs(Middleware):
    def __init__(self, log_format: str | None = None) -> None:
        self.log_format = log_format or log_format_from_env()

    def after_process_boot(self, broker: Any) -> None:
        if self.log_format == "json":
            use_json_logs(logging.getLogger().handlers, fields=job_fields)
