"""The Dramatiq worker: receive a job, render it with pipelines/, upload, report.

    ugen-worker                      # or python -m engine.worker; dramatiq engine.worker:setup
    send_job(broker_from_url("redis://127.0.0.1:6379/0"), job, queue="renders")

    app.py          broker, actor, middleware list, setup() for Dramatiq, main() for ugen-worker
    runner.py       JobRunner: one delivery of one job, leases, retries, results
    settings.py     WorkerSettings from the environment
    idempotency.py  leases and stored results in Redis: exactly-once uploads and reports
    outbox.py       the durable, signed event outbox
    storage.py      S3, local and presigned-URL uploads
    middleware/     one cross-cutting concern per file
"""

from engine.worker.app import broker_from_url, main, send_job, setup

__all__ = ["broker_from_url", "main", "send_job", "setup"]
