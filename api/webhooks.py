"""job.completed and job.failed webhooks, signed and retried as U-Gen sends them.

    queue_webhook(db, account, job, "job.completed")   # in the transaction that ends the job
    WebhookSender(ctx).start()                          # delivers due rows from its own thread

A delivery row is written in the same transaction as the job's final status, with a unique key
per job, event and attempt, so a job's webhook is queued exactly once; the row keeps the body,
so every try sends the same bytes. Signature as U-Gen's: `X-UGen-Timestamp` (Unix seconds at
sending) and `X-UGen-Signature` = hex HMAC-SHA256(secret, timestamp + "." + raw body); no
secret, no signature. A try fails on anything but a 2xx within the timeout (10 s); failed
tries are repeated 1, 4 and 16 s later, then the delivery is dropped. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.tables import Account, Job, WebhookDelivery, utcnow
from engine.reporting import encode, signed_headers

if TYPE_CHECKING:
    from api.context import AppContext

log = logging.getLogger(__name__)

CLAIM = timedelta(seconds=30)  # a claimed row is left alone this long by other senders


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


def _public_host(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def payload(job: Job, event: str) -> dict:
    return {"event": event, "job_id": job.id, "status": job.status, "final_video_url": job.final_video_url,
            "thumbnail_url": job.thumbnail_url, "credits_consumed": job.credits_consumed,
            "error_message": (job.error or {}).get("message"),
            "timestamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}


def queue_webhook(db: Session, account: Account, job: Job, event: str) -> None:
    url = job.webhook_url or account.webhook_url
    if not url:
        return
    db.add(WebhookDelivery(account_id=account.id, job_id=job.id, job_attempt=job.attempt, event=event, url=url,
                           secret=account.webhook_secret, body=encode(payload(job, event)).decode(),
                           attempts=0, state="pending", next_attempt_at=utcnow()))


class WebhookSender:
    def __init__(self, ctx: AppContext, *, poll_s: float = 0.2) -> None:
        self.ctx, self.poll_s = ctx, poll_s
        self.client = httpx.Client(timeout=ctx.settings.webhook_timeout_s, follow_redirects=False,
                                   headers={"User-Agent": "ugen-engine-api"})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ugen-api-webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.ctx.settings.webhook_timeout_s + 2)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.deliver_due()
            except Exception:  # noqa: BLE001 - the thread's outermost boundary: keep delivering
                log.exception("webhook pass failed")

    def _claim(self, now: datetime) -> list[WebhookDelivery]:
        with self.ctx.session() as db:
            rows = db.scalars(select(WebhookDelivery).where(
                WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at).limit(20).with_for_update(skip_locked=True)).all()
            for row in rows:
                row.next_attempt_at = now + CLAIM
        return list(rows)

    def deliver_due(self) -> int:
        rows = self._claim(utcnow())
        for row in rows:
            self._finish(row.id, self._try(row))
        return len(rows)

    def _try(self, row: WebhookDelivery) -> str | None:
        """None when delivered, else why not."""
        host = urlsplit(row.url).hostname or ""
        if not self.ctx.settings.allow_private_urls and not _public_host(host):
            return f"{host} does not resolve to public addresses only"
        raw = row.body.encode()
        try:
            response = self.client.post(row.url, content=raw, headers=signed_headers(row.secret, raw))
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    def _finish(self, row_id: int, problem: str | None) -> None:
        delays = self.ctx.settings.webhook_retry_delays_s
        with self.ctx.session() as db:
            row = db.get(WebhookDelivery, row_id, with_for_update=True)
            row.attempts += 1
            now = utcnow()
            if problem is None:
                row.state, row.delivered_at, row.last_error = "delivered", now, None
            elif row.attempts > len(delays):
                row.state, row.last_error = "dropped", problem
                log.warning("webhook %s for job %s dropped after %d tries: %s", row.event, row.job_id,
                            row.attempts, problem)
            else:
                row.last_error, row.next_attempt_at = problem, now + timedelta(seconds=delays[row.attempts - 1])
