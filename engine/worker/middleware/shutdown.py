"""Graceful shutdown: on SIGTERM the current render finishes within the grace, or is handed back.

    GracefulShutdown(grace_s=600)   # in the worker's middleware list
    # the actor catches JobHandedBack, requeues the job and acks its own message

Dramatiq stops taking messages on SIGTERM and waits `--worker-shutdown-timeout` for the running
one. Waiting blindly wastes the grace when the render cannot finish in it, and then the job
waits for the broker to notice (a minute or more on Redis). So at every progress call after
SIGTERM the finish time is extrapolated from this attempt's pace; a render that will not
finish (upload included) before the grace ends stops at once, at a progress call, where
stopping is safe, and goes back to the queue for another worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from dramatiq import Middleware

from engine.worker.middleware.job_context import current_job

log = logging.getLogger(__name__)

UPLOAD_MARGIN_S = 10.0  # time kept for upload and the final report after the last frame


class JobHandedBack(Exception):
    """The worker is stopping and this render would not finish within the grace."""


class GracefulShutdown(Middleware):
    def __init__(self, *, grace_s: float) -> None:
        self.grace_s = grace_s
        self.stopping = threading.Event()
        self.deadline = float("inf")  # monotonic

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self.deadline = time.monotonic() + self.grace_s
        self.stopping.set()
        log.info("stopping: the current render has %.0f s to finish", self.grace_s)

    def before_process_message(self, broker: Any, message: Any) -> None:
        context = current_job()
        if context is not None:
            context.listen(_Check(self, time.monotonic()))


class _Check:
    """Per job: raises JobHandedBack at a progress call when the render cannot make it."""

    def __init__(self, owner: GracefulShutdown, started: float) -> None:
        self.owner, self.started = owner, started

    def __call__(self, stage: str, percent: float) -> None:
        if not self.owner.stopping.is_set():
            return
        now = time.monotonic()
        elapsed = now - self.started
        remaining = elapsed * (100.0 - percent) / percent if percent > 0 else float("inf")
        if now + remaining + UPLOAD_MARGIN_S > self.owner.deadline:
            raise JobHandedBack(f"stopping at {stage} {percent:.0f}%: about {remaining:.0f} s of "
                                f"render left, {max(0.0, self.owner.deadline - now):.0f} s of grace")
