"""Time limits sized from each job's video duration, for Dramatiq's TimeLimit to enforce.

    JobTimeLimit(settings)   # placed before TimeLimit in the middleware list

A 6 s draft and a 100 s standard render need very different limits; one actor-wide limit is
either too tight for the long ones or useless for the short ones. The limit is capped below
RabbitMQ's consumer_timeout (30 min) so a hung render is interrupted before the broker
requeues it behind our back. TimeLimit interrupts only Python code: ffmpeg and every network
call carry their own timeouts.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware

from engine.worker.middleware.job_context import current_job
from engine.worker.settings import WorkerSettings


class JobTimeLimit(Middleware):
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings

    def before_process_message(self, broker: Any, message: Any) -> None:
        context = current_job()
        video_s = context.spec.target_duration_s if context and context.spec else 0.0
        message.options["time_limit"] = int(self.settings.time_limit_s(video_s=video_s) * 1000)
