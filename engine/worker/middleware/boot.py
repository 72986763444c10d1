"""Worker process boot and shutdown: models load once, after the fork, before any job.

    WorkerBoot(runtime)   # in the worker's middleware list
    profile_problems(settings)   # [] when every backend of the profile has what it needs

Dramatiq's parent process never imports the engine; each worker process calls
`engine.worker:setup` and then emits `process_boot`, which is where the profile is checked
(weights on disk, the CUDA device it asks for, the extras), then the runtime opens Redis,
cleans what crashed workers left, loads every model and warms it up (CUDA initialises here, in
the child) and starts the event relay. A profile that cannot run stops the process with
EXIT_PROFILE_NOT_READY before it consumes anything; Dramatiq's parent then exits with that
code. On shutdown the relay gets a few seconds to deliver what is queued; anything left stays
in Redis for the next worker.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Middleware

log = logging.getLogger(__name__)
EXIT_PROFILE_NOT_READY = 78  # sysexits.h EX_CONFIG: a configuration error


def profile_problems(settings: Any) -> list[str]:
    """What the settings' profile lacks here (engine.settings.Settings); loads no model."""
    from models.profile_check import validate_profile

    return validate_profile(settings.profile, settings)


def refusal(settings: Any, problems: list[str]) -> str:
    from models.profile_check import format_problems

    return (format_problems(problems, profile=settings.profile)
            + "\nthe worker does not start with this profile")


class WorkerBoot(Middleware):
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def after_process_boot(self, broker: Any) -> None:
        settings = self.runtime.settings.engine
        problems = profile_problems(settings)
        if problems:
            log.critical(refusal(settings, problems))
            # SystemExit is not an Exception: Dramatiq's hook runner lets it end the process.
            raise SystemExit(EXIT_PROFILE_NOT_READY)
        self.runtime.boot()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self.runtime.close()
