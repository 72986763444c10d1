"""A durable outbox in Redis for progress events, and the relay that delivers it to the API.

    outbox = Outbox(redis, ttl_s=7 * 86400, result_ttl_s=30 * 86400)
    outbox.register(job_id, callback_url=url, secret=secret)
    outbox.append(job_id, processing_event(...), lease_token=lease.token, callback_url=url, secret=secret)
    outbox.finish(job_id, completed_event(...), delivery_attempt=1, lease_token=lease.token)
    relay = Relay(redis, callback_timeout_s=10, max_backoff_s=30); relay.start()

Each job has one ordered list of signed-on-delivery event bodies. An event leaves the list only
when the API answered 2xx, or refused it (engine/worker/refusals.py: a refused terminal event is
kept and retried while the outbox lives, then dead-lettered, never dropped), so a terminal event
survives an API outage, a clock or secret mismatch and a worker restart: any worker's relay picks
up a job whose events are due.
One relay at a time delivers a job's list (a lock with a token), so events arrive in order.

`append` and `finish` are single Lua calls that number the event (`seq`, per job, across
attempts), keep `progress_percent` from ever going down, and refuse processing events once a
result exists or when the caller's lease is gone, so the terminal event is always the last.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import redis

from engine.reporting import signed_headers
from engine.worker.idempotency import JobKeys, JobResult, Lease, LeaseLost
from engine.worker.refusals import REFUSED, DeadLetters, Verdict, is_terminal, verdict

log = logging.getLogger(__name__)

PENDING = "ugen:outbox"  # sorted set: job id -> when its next delivery is due (ms)

NUMBER = """
if url ~= '' then redis.call('HSET', KEYS[1], 'callback_url', url, 'secret', secret) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local pct = math.max(tonumber(redis.call('HGET', KEYS[1], 'percent') or '0'), tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'percent', pct)
local body = cjson.decode(ARGV[1])
body['seq'] = seq
body['progress_percent'] = pct
local encoded = cjson.encode(body)
redis.call('RPUSH', KEYS[2], encoded)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[4], 'NX', ARGV[3], ARGV[5])
"""
APPEND = """
local url, secret = ARGV[7], ARGV[8]
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
if ARGV[6] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[6] then return false end
""" + NUMBER + "return encoded"
FINISH = """
local url, secret = ARGV[9], ARGV[10]
local existing = redis.call('HMGET', KEYS[3], 'delivery_attempt', 'event')
if existing[2] then return {0, existing[1], existing[2]} end
if ARGV[8] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[8] then return {-1, '0', ''} end
""" + NUMBER + """
redis.call('HSET', KEYS[3], 'delivery_attempt', ARGV[6], 'event', encoded)
redis.call('PEXPIRE', KEYS[3], ARGV[7])
return {1, ARGV[6], encoded}
"""
RESEND = """
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[4])
"""
POP_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
"""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Outbox:
    def __init__(self, client: redis.Redis, *, ttl_s: float, result_ttl_s: float) -> None:
        self.client, self.ttl_ms, self.result_ttl_ms = client, _ms(ttl_s), _ms(result_ttl_s)
        self._append, self._finish = client.register_script(APPEND), client.register_script(FINISH)
        self._resend = client.register_script(RESEND)

    def register(self, job_id: str, *, callback_url: str, secret: str | None) -> None:
        """Where this job's events go; kept beside them so any worker's relay can deliver."""
        keys = JobKeys(job_id)
        self.client.hset(keys.state, mapping={"callback_url": callback_url, "secret": secret or ""})
        self.client.pexpire(keys.state, self.ttl_ms)

    def append(self, job_id: str, body: dict[str, Any], *, lease_token: str = "",
               callback_url: str = "", secret: str | None = None) -> dict | None:
        """Numbers and queues a progress event. With a callback URL, the job's route is written
        again beside it: the outbox's ttl counts from the last event, so a job whose events are
        further apart than the ttl would otherwise leave them with nowhere to go."""
        k = JobKeys(job_id)
        raw = self._append(keys=[k.state, k.events, k.result, PENDING, k.lease],
                           args=[json.dumps(body), body["progress_percent"], _ms(time.time()),
                                 self.ttl_ms, job_id, lease_token, callback_url, secret or ""])
        return json.loads(raw) if raw else None

    def finish(self, job_id: str, body: dict[str, Any], *, delivery_attempt: int, lease_token: str = "",
               callback_url: str = "", secret: str | None = None) -> tuple[bool, JobResult]:
        """Records the job's result and queues its terminal event, or returns the result that
        is already recorded: (recorded now, the result). With a lease token, this is the
        fenced commit: it raises LeaseLost unless the lease is still ours."""
        k = JobKeys(job_id)
        status, attempt, raw = self._finish(
            keys=[k.state, k.events, k.result, PENDING, k.lease],
            args=[json.dumps(body), body["progress_percent"], _ms(time.time()), self.ttl_ms, job_id,
                  int(delivery_attempt), self.result_ttl_ms, lease_token, callback_url, secret or ""])
        if status == -1:
            raise LeaseLost(f"lease on job {job_id} lost before its result was recorded")
        return status == 1, JobResult(int(attempt), raw)

    def resend(self, job_id: str, result: JobResult) -> None:
        """Queues a recorded terminal event again, byte for byte (unless it is still queued)."""
        k = JobKeys(job_id)
        self._resend(keys=[k.events, PENDING],
                     args=[result.raw_event, _ms(time.time()), self.ttl_ms, job_id])

    def pending(self, job_id: str) -> list[dict]:
        return [json.loads(raw) for raw in self.client.lrange(JobKeys(job_id).events, 0, -1)]


def post_event(url: str, raw_body: bytes, headers: dict[str, str], *, timeout_s: float) -> tuple[int, bytes]:
    """POSTs one event; returns the HTTP status and the start of the answer. Redirects are not
    followed: a POST that is redirected is not delivered."""
    parts = urlsplit(url)
    conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_type(parts.hostname, parts.port, timeout=timeout_s)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=raw_body, headers={**headers, "User-Agent": "ugen-engine-worker"})
        response = conn.getresponse()
        return response.status, response.read(64 * 1024)
    finally:
        conn.close()


def _reason(answer: bytes) -> str:
    """The API's own words for a refusal (its error code and details), for the log."""
    try:
        error = json.loads(answer).get("error") or {}
        return f"{error.get('code')}: {error.get('message')} {json.dumps(error.get('details') or {})}"[:300]
    except (ValueError, AttributeError):
        return answer[:200].decode(errors="replace")


class Relay:
    """Delivers every due job's events, oldest first, retrying network errors with backoff."""

    def __init__(self, client: redis.Redis, *, callback_timeout_s: float, max_backoff_s: float,
                 poll_s: float = 1.0) -> None:
        self.client, self.timeout_s, self.max_backoff_s, self.poll_s = (
            client, callback_timeout_s, max_backoff_s, poll_s)
        self._pop = client.register_script(POP_IF_HEAD)
        self.dead_letters = DeadLetters(client)
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._own: set[str] = set()  # jobs whose events this process queued
        self._own_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ugen-relay", daemon=True)
        self._thread.start()

    def notify(self, job_id: str) -> None:
        """A job's events were queued here: deliver them now, not at the next poll."""
        with self._own_lock:
            self._own.add(job_id)
        self._wake.set()

    def stop(self, *, flush_s: float = 5.0) -> None:
        """Gives this process's pending events up to `flush_s` to go out, then stops; what is
        left stays in Redis for any worker's relay."""
        deadline = time.monotonic() + flush_s
        while time.monotonic() < deadline and self._undelivered():
            self._wake.set()
            time.sleep(0.2)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the pass: a notify during it triggers the next one
            try:
                self.deliver_due()
            except redis.RedisError as exc:
                log.warning("event relay cannot reach Redis: %s", exc)
            except Exception:  # noqa: BLE001 - the thread's outermost boundary: keep delivering
                log.exception("event relay pass failed")
            self._wake.wait(self.poll_s)

    def _undelivered(self) -> bool:
        with self._own_lock:
            own = list(self._own)
        try:
            return any(self.client.llen(JobKeys(j).events) for j in own)
        except redis.RedisError:
            return False  # nothing could go out anyway

    def _due_jobs(self) -> list[str]:
        return [j.decode() for j in self.client.zrangebyscore(PENDING, "-inf", _ms(time.time()), 0, 50)]

    def deliver_due(self) -> int:
        """One pass over the jobs whose events are due; returns how many events went out."""
        return sum(self._deliver_job(job_id) for job_id in self._due_jobs())

    def _deliver_job(self, job_id: str) -> int:
        keys = JobKeys(job_id)
        lock = Lease(self.client, keys.delivery_lock, ttl_s=self.timeout_s * 2 + 5)
        if not lock.acquire():
            return 0  # another relay is delivering this job's events
        try:
            return self._drain(job_id, keys, lock)
        finally:
            lock.release()

    def _drain(self, job_id: str, keys: JobKeys, lock: Lease) -> int:
        url, secret = (v.decode() if v else "" for v in self.client.hmget(keys.state, "callback_url", "secret"))
        sent = 0
        while not self._stop.is_set() and (head := self.client.lindex(keys.events, 0)) is not None:
            if not lock.renew():  # held past its ttl: another relay may be on this job now
                return sent
            outcome = self._send(job_id, url, secret, head)
            if outcome is Verdict.RETRY or (outcome is Verdict.HOLD and self._outlives_backoff(job_id, keys)):
                self._back_off(job_id, keys)
                return sent
            if outcome is Verdict.HOLD:  # still refused as its outbox ends: keep it where it stays
                self.dead_letters.add(job_id, head, why="refused until its outbox expired")
                REFUSED.labels("expired", "dead_lettered").inc()
                log.error("job %s: its terminal event was refused until its outbox expired; dead-lettered", job_id)
            self._pop(keys=[keys.events, PENDING], args=[head, job_id])
            self.client.hset(keys.state, "failures", 0)
            sent += outcome is Verdict.DELIVERED
        if self.client.llen(keys.events) == 0:
            self._pop(keys=[keys.events, PENDING], args=["", job_id])
            with self._own_lock:
                self._own.discard(job_id)
        return sent

    def _send(self, job_id: str, url: str, secret: str, raw: bytes) -> Verdict:
        terminal = is_terminal(raw)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            return self._unsendable(job_id, raw, terminal, why=f"callback URL {url!r} is not http(s)")
        try:
            status, answer = post_event(url, raw, signed_headers(secret, raw), timeout_s=self.timeout_s)
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, garbled
            log.info("event for job %s not delivered: %s", job_id, exc)
            return Verdict.RETRY
        outcome = verdict(status, terminal=terminal)
        if outcome is Verdict.RETRY:
            log.info("event for job %s got HTTP %d; will retry", job_id, status)
        elif outcome is not Verdict.DELIVERED:
            self._refused(job_id, raw, status, outcome, reason=_reason(answer))
        return outcome

    def _refused(self, job_id: str, raw: bytes, status: int, outcome: Verdict, *, reason: str) -> None:
        then = {Verdict.HOLD: "kept", Verdict.DROP: "dropped", Verdict.DEAD: "dead_lettered"}[outcome]
        REFUSED.labels(str(status), then).inc()
        kind = "terminal" if outcome is not Verdict.DROP else "progress"
        log.error("API refused the %s event for job %s with HTTP %d (%s); %s", kind, job_id, status, reason,
                  then.replace("_", " "))
        if outcome is Verdict.DEAD:
            self.dead_letters.add(job_id, raw, why=f"HTTP {status}: {reason}")

    def _unsendable(self, job_id: str, raw: bytes, terminal: bool, *, why: str) -> Verdict:
        log.error("job %s: %s; its %s event is %s", job_id, why, "terminal" if terminal else "progress",
                  "moved to the dead-letter list" if terminal else "dropped")
        if terminal:
            self.dead_letters.add(job_id, raw, why=why)
        return Verdict.DEAD if terminal else Verdict.DROP

    def _delay_s(self, keys: JobKeys, *, failures: int | None = None) -> float:
        failures = failures if failures is not None else int(self.client.hget(keys.state, "failures") or 0) + 1
        return min(self.max_backoff_s, 0.5 * 2 ** min(failures - 1, 16))

    def _outlives_backoff(self, job_id: str, keys: JobKeys) -> bool:
        """Whether the job's events are still in Redis at the next try (PTTL -1: no expiry)."""
        left_ms = self.client.pttl(keys.events)
        return left_ms == -1 or left_ms > _ms(self._delay_s(keys) + self.timeout_s)

    def _back_off(self, job_id: str, keys: JobKeys) -> None:
        failures = self.client.hincrby(keys.state, "failures", 1)
        delay_s = self._delay_s(keys, failures=failures)
        self.client.zadd(PENDING, {job_id: _ms(time.time() + delay_s)}, xx=True)
