"""One render at a time per worker process: one worker thread, prefetch 1.

    SingleRender()   # in the worker's middleware list

Dramatiq's defaults (8 threads, prefetch 2 x threads) would run renders side by side on one GPU
and hold a second message unacked for the whole render while other workers sit idle. The
`dramatiq` command line should say `--threads 1` and `dramatiq_queue_prefetch=1`; this makes
sure of it even when it does not, before any consumer starts.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Middleware

log = logging.getLogger(__name__)


class SingleRender(Middleware):
    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        if worker.worker_threads != 1 or worker.queue_prefetch != 1:
            log.warning("running %d thread(s) with prefetch %d; using 1 and 1: one render at a time",
                        worker.worker_threads, worker.queue_prefetch)
        worker.worker_threads = 1
        worker.queue_prefetch = 1
