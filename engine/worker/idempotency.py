"""Exactly-once effects under at-least-once delivery: a lease per job and its final result.

    lease = Lease.on_job(redis, job_id, ttl_s=30)
    if not lease.acquire():
        ...                                   # another worker renders it: look again later
    with LeaseKeeper(lease) as keeper:        # renews every second while the render runs
        render(on_progress=lambda *_: keeper.check())   # LeaseLost once it may be gone,
                                                        # JobCancelled once the API cancelled it
    lease.release()                           # only if the token is still ours

    ResultStore(redis).get(job_id)            # JobResult(delivery_attempt, raw_event) or None

The lease is `SET key token NX PX ttl`; renewal and release compare the token in Lua, so a
worker whose lease expired (a long pause) can never extend or delete its successor's. The
result record is written by the outbox in the same Redis call that queues the terminal event.
The lease counts as lost once the last renewal that succeeded was sent longer ago than the ttl
less a margin, whatever the renewal calls are doing meanwhile (a Redis outage makes them hang
or fail): Redis may have let the key expire by then. The same renewal call reads the job's
cancel flag, which the API sets (`JobKeys(job).cancel`).
All keys of one job share the hash tag `{job}` so the scripts stay valid on a Redis Cluster.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger(__name__)

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RENEW_AND_WATCH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 0} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, redis.call('EXISTS', KEYS[2])}
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def safe_id(job_id: str) -> str:
    """The job id when it is safe in a path, a key or a URL; a digest of it otherwise."""
    if SAFE_ID.match(job_id) and ".." not in job_id:
        return job_id
    return "h-" + hashlib.sha256(job_id.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class JobKeys:
    """Every Redis key of one job, in one place."""

    job_id: str

    def _key(self, part: str) -> str:
        return f"ugen:job:{{{safe_id(self.job_id)}}}:{part}"

    @property
    def lease(self) -> str:
        return self._key("lease")

    @property
    def result(self) -> str:  # hash: delivery_attempt, event (the terminal body as sent)
        return self._key("result")

    @property
    def state(self) -> str:  # hash: seq, percent, callback url and secret, delivery failures
        return self._key("state")

    @property
    def events(self) -> str:  # list of event bodies waiting for the API's 2xx
        return self._key("events")

    @property
    def delivery_lock(self) -> str:
        return self._key("delivery-lock")

    @property
    def cancel(self) -> str:  # set by the API when the job is cancelled; read with every renewal
        return self._key("cancel")


class LeaseLost(Exception):
    """The lease expired or was taken over: another worker owns the job now."""


class JobCancelled(Exception):
    """The API cancelled the job: stop rendering, upload nothing, acknowledge."""


class Lease:
    """A token-guarded lock on one key; `Lease.on_job` is the render lease of a job."""

    def __init__(self, client: redis.Redis, key: str, *, ttl_s: float, cancel_key: str = "") -> None:
        self.client, self.key, self.cancel_key = client, key, cancel_key or key + ":cancel"
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.token = secrets.token_hex(16)
        self.renewed_at = float("-inf")  # monotonic: when the last successful SET/renewal was sent
        self._renew = client.register_script(RENEW)
        self._watch = client.register_script(RENEW_AND_WATCH)
        self._release = client.register_script(RELEASE)

    @classmethod
    def on_job(cls, client: redis.Redis, job_id: str, *, ttl_s: float) -> Lease:
        keys = JobKeys(job_id)
        return cls(client, keys.lease, ttl_s=ttl_s, cancel_key=keys.cancel)

    def acquire(self) -> bool:
        sent = time.monotonic()
        taken = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        if taken:
            self.renewed_at = sent
        return taken

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def renew_and_watch(self) -> tuple[bool, bool]:
        """(still ours and renewed, the job was cancelled)."""
        sent = time.monotonic()
        held, cancelled = self._watch(keys=[self.key, self.cancel_key], args=[self.token, self.ttl_ms])
        if held:
            self.renewed_at = sent
        return bool(held), bool(cancelled)

    def cancelled(self) -> bool:
        return bool(self.client.exists(self.cancel_key))

    def release(self) -> bool:
        return bool(self._release(keys=[self.key], args=[self.token]))

    def held(self) -> bool:
        value = self.client.get(self.key)
        return value is not None and value.decode() == self.token


class LeaseKeeper:
    """Renews a lease from a thread and watches the job's cancel flag; `check()`, called at every
    progress call, raises JobCancelled or LeaseLost from the actor thread."""

    def __init__(self, lease: Lease, *, tick_s: float = 1.0) -> None:
        self.lease = lease
        ttl_s = lease.ttl_ms / 1000
        self.tick_s = min(tick_s, ttl_s / 3)
        # Renewals are judged by when they were sent: Redis counts the ttl from when it got one.
        self.lost_after_s = ttl_s - max(self.tick_s, ttl_s / 6)
        self.taken, self.cancelled = threading.Event(), threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ugen-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled(f"job of lease {self.lease.key} was cancelled")
        if self.taken.is_set():
            raise LeaseLost(f"lease on {self.lease.key} was taken over")
        silent_s = time.monotonic() - self.lease.renewed_at
        if silent_s > self.lost_after_s:
            raise LeaseLost(f"lease on {self.lease.key} not renewed for {silent_s:.1f} s; "
                            "it may have expired")

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                held, cancelled = self.lease.renew_and_watch()
            except redis.RedisError as exc:  # check() judges by time; keep trying meanwhile
                log.warning("lease renewal failed (%s); %.1f s since the last one", exc,
                            time.monotonic() - self.lease.renewed_at)
                continue
            if cancelled:
                self.cancelled.set()
            if not held:
                self.taken.set()  # the token is gone: someone else may hold the job now
                return


@dataclass(frozen=True)
class JobResult:
    """A job's final outcome: its terminal event exactly as first sent, and the API's attempt."""

    delivery_attempt: int
    raw_event: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.raw_event)


class ResultStore:
    """The final outcome of each job, as recorded by the outbox with its terminal event."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, job_id: str) -> JobResult | None:
        attempt, raw = self.client.hmget(JobKeys(job_id).result, "delivery_attempt", "event")
        return JobResult(int(attempt), raw) if raw is not None else None

    def forget(self, job_id: str) -> None:
        """Drop a failed outcome so a newer attempt from the API renders again."""
        self.client.delete(JobKeys(job_id).result)
