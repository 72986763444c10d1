"""Worker process boot and shutdown: models load once, after the fork, before any job.

    WorkerBoot(runtime)   # in the worker's middleware list

Dramatiq's parent process never imports the engine; each worker process calls
`engine.worker:setup` and then emits `process_boot`, which is where the runtime opens Redis,
cleans what crashed workers left, loads every model (CUDA initialises here, in the child) and
starts the event relay. On shutdown the relay gets a few seconds to deliver what is queued;
anything left stays in Redis for the next worker.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware


class WorkerBoot(Middleware):
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def after_process_boot(self, broker: Any) -> None:
        self.runtime.boot()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self.runtime.close()
