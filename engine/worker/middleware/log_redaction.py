"""Keeps callback secrets out of the logs.

    RedactJobs()   # in the worker's middleware list

Dramatiq logs a failed message as `render_job({...the whole job...})`, and the job carries the
callback secret in its delivery block. Once logging is set up in a worker process, a filter on
every root handler writes messages in log records as `render_job(job <id>, message <id>)`.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Message, Middleware
from dramatiq.broker import MessageProxy


def describe(message: Message | MessageProxy) -> str:
    job = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    return f"{message.actor_name}(job {job.get('job_id', '?')}, message {message.message_id})"


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(describe(a) if isinstance(a, (Message, MessageProxy)) else a
                                for a in record.args)
        return True


class RedactJobs(Middleware):
    def after_process_boot(self, broker: Any) -> None:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, _Redact) for f in handler.filters):
                handler.addFilter(_Redact())
