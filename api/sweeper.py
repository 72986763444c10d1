"""The background sweep: queued jobs sent again, and jobs the worker went silent on failed.

    sweeper = Sweeper(ctx).start()     # every sweep_interval_s, until sweeper.stop()

A job `processing` with no event for `stall_after_s` (6 h by default: far beyond the worker's
25 min time limit, its retries and its lease deferrals) is failed with JOB_STALLED, its credits
released and job.failed sent; a result the worker reports later is then ignored.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select

from api import ledger
from api.context import AppContext
from api.dispatch import sweep_once
from api.metrics import JOBS_FINISHED, SWEEPER
from api.tables import Account, Job, utcnow
from api.webhooks import queue_webhook

log = logging.getLogger(__name__)

STALLED = {"code": "JOB_STALLED", "message": "the worker reported nothing for too long", "details": {}}


def fail_stalled(ctx: AppContext) -> int:
    """Fails every job processing without news for stall_after_s; returns how many."""
    cutoff = utcnow() - timedelta(seconds=ctx.settings.stall_after_s)
    with ctx.session() as db:
        ids = db.scalars(select(Job.id).where(Job.status == "processing", Job.updated_at < cutoff).limit(100)).all()
    return sum(_fail(ctx, job_id, cutoff) for job_id in ids)


def _fail(ctx: AppContext, job_id: str, cutoff) -> bool:
    with ctx.session() as db:
        job = db.get(Job, job_id)
        account = db.get(Account, job.account_id, with_for_update=True)  # lock order: account, then job
        db.refresh(job, with_for_update=True)
        if job.status != "processing" or job.updated_at >= cutoff:
            return False  # an event arrived meanwhile
        job.status, job.finished_at = "failed", utcnow()
        job.error = {**STALLED, "details": {"stall_after_s": ctx.settings.stall_after_s}}
        ledger.release(db, account, job, why="job stalled")
        queue_webhook(db, account, job, "job.failed")
    log.warning("job %s failed: no event for %.0f s", job_id, ctx.settings.stall_after_s)
    SWEEPER.labels("stalled").inc()
    JOBS_FINISHED.labels("failed").inc()
    return True


class Sweeper:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ugen-api-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.settings.sweep_interval_s):
            try:
                if sent := sweep_once(self.ctx):
                    log.info("sweeper sent %d queued job(s) again", sent)
                fail_stalled(self.ctx)
            except Exception:  # noqa: BLE001 - the thread's outermost boundary: keep sweeping
                log.exception("sweep failed")
