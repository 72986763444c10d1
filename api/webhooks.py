"""job.completed and job.failed webhooks, signed and retried as U-Gen sends them.

    queue_webhook(db, account, job, "job.completed")   # in the transaction that ends the job
    WebhookSender(ctx).start()                          # delivers due rows from its own thread

A delivery row is written in the same transaction as the job's final status, with a unique key
per job, event and attempt, so a job's webhook is queued exactly once; the row keeps the body,
so every try sends the same bytes. Signature as U-Gen's: `X-UGen-Timestamp` (Unix seconds at
sending) and `X-UGen-Signature` = hex HMAC-SHA256(secret, timestamp + "." + raw body); no
secret, no signature. A try fails on anything but a 2xx within the timeout (10 s); failed
tries are repeated 1, 4 and 16 s later, then the delivery is dropped. Redirects are not followed.

Rows are claimed one at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and each is sent on its
own thread of a bounded pool (UGEN_API_WEBHOOK_CONCURRENCY, 8), so a slow receiver holds one
thread, not every tenant's webhooks. A claim lasts longer than a send can (the timeout is one
hard deadline), so another replica never sends the same row while it is in flight. Each send
resolves the host, checks every address, and connects to the checked one
(engine/public_http.py): no DNS answer given after the check, and no `*_PROXY` variable, can
send a tenant's webhook into the API's own network.
"""

from __future__ import annotations

import http.client
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.metrics import WEBHOOKS
from api.tables import Account, Job, WebhookDelivery, utcnow
from engine.public_http import PublicHttpRefused, post_to_public
from engine.reporting import encode, signed_headers

if TYPE_CHECKING:
    from api.context import AppContext

log = logging.getLogger(__name__)

CLAIM_MARGIN = timedelta(seconds=30)  # beyond the send's own deadline, before others may claim the row


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` may not receive webhooks (checked when set), or None."""
    if len(url) > 2048:
        return "webhook_url must be at most 2048 characters"
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "webhook_url must be an https:// URL"
    if not parts.hostname or parts.username or parts.password:
        return "webhook_url must name a host and carry no credentials"
    return None


def payload(job: Job, event: str, links: dict[str, str | None] | None = None) -> dict:
    links = links or {"final_video_url": job.final_video_url, "thumbnail_url": job.thumbnail_url}
    return {"event": event, "job_id": job.id, "status": job.status, "final_video_url": links["final_video_url"],
            "thumbnail_url": links["thumbnail_url"], "credits_consumed": job.credits_consumed,
            "error_message": (job.error or {}).get("message"),
            "timestamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}


def queue_webhook(db: Session, account: Account, job: Job, event: str,
                  links: dict[str, str | None] | None = None) -> None:
    """`links`: the job's file URLs as signed now (api/links.py), else the stored ones."""
    url = job.webhook_url or account.webhook_url
    if not url:
        return
    db.add(WebhookDelivery(account_id=account.id, job_id=job.id, job_attempt=job.attempt, event=event, url=url,
                           secret=account.webhook_secret, body=encode(payload(job, event, links)).decode(),
                           attempts=0, state="pending", next_attempt_at=utcnow()))


class WebhookSender:
    """Claims due rows one at a time and sends each on its own thread of a bounded pool, so a
    slow receiver holds one thread, not everyone's webhooks."""

    def __init__(self, ctx: AppContext, *, poll_s: float = 0.2) -> None:
        self.ctx, self.poll_s = ctx, poll_s
        size = ctx.settings.webhook_concurrency
        self._slots = threading.BoundedSemaphore(size)
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ugen-api-webhook")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ugen-api-webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_s + 2)
        self._pool.shutdown(wait=True, cancel_futures=True)  # a send in flight ends by its deadline

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=self.poll_s):
                continue  # every thread is sending
            try:
                row = self._claim(utcnow())
            except Exception:  # noqa: BLE001 - the thread's outermost boundary: keep delivering
                log.exception("webhook claim failed")
                row = None
            if row is None:
                self._slots.release()
                self._stop.wait(self.poll_s)
                continue
            self._pool.submit(self._deliver, row)

    def _claim(self, now: datetime) -> WebhookDelivery | None:
        """The next due row, no longer due for anyone else until its send must have ended."""
        with self.ctx.session() as db:
            row = db.scalars(select(WebhookDelivery).where(
                WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at).limit(1).with_for_update(skip_locked=True)).first()
            if row is not None:
                row.next_attempt_at = now + timedelta(seconds=self.ctx.settings.webhook_timeout_s) + CLAIM_MARGIN
        return row

    def _deliver(self, row: WebhookDelivery) -> None:
        try:
            self._finish(row.id, self._try(row))
        except Exception:  # noqa: BLE001 - one row's failure must not stop the pool
            log.exception("webhook %s for job %s failed", row.event, row.job_id)
        finally:
            self._slots.release()

    def _try(self, row: WebhookDelivery) -> str | None:
        """None when delivered, else why not."""
        raw = row.body.encode()
        headers = {**signed_headers(row.secret, raw), "User-Agent": "ugen-engine-api"}
        try:
            status = post_to_public(row.url, raw, headers, timeout_s=self.ctx.settings.webhook_timeout_s,
                                    allow_private=self.ctx.settings.allow_private_urls)
        except PublicHttpRefused as exc:
            return str(exc)[:500]
        except (OSError, http.client.HTTPException) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None if 200 <= status < 300 else f"HTTP {status}"

    def _finish(self, row_id: int, problem: str | None) -> None:
        delays = self.ctx.settings.webhook_retry_delays_s
        with self.ctx.session() as db:
            row = db.get(WebhookDelivery, row_id, with_for_update=True)
            row.attempts += 1
            now = utcnow()
            if problem is None:
                row.state, row.delivered_at, row.last_error = "delivered", now, None
                WEBHOOKS.labels("delivered").inc()
            elif row.attempts > len(delays):
                row.state, row.last_error = "dropped", problem
                WEBHOOKS.labels("dropped").inc()
                log.warning("webhook %s for job %s dropped after %d tries: %s", row.event, row.job_id,
                            row.attempts, problem)
            else:
                row.last_error, row.next_attempt_at = problem, now + timedelta(seconds=delays[row.attempts - 1])
                WEBHOOKS.labels("retried").inc()
