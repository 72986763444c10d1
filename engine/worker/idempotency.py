"""Exactly-once effects under at-least-once delivery: a lease per job and its final result.

    lease = Lease.on_job(redis, job_id, ttl_s=30)
    if not lease.acquire():
        ...                                   # another worker renders it: look again later
    with LeaseKeeper(lease) as keeper:        # renews every ttl/3 while the render runs
        render(on_progress=lambda *_: keeper.check())   # raises LeaseLost once it is gone
    lease.release()                           # only if the token is still ours

    ResultStore(redis).get(job_id)            # JobResult(delivery_attempt, raw_event) or None

The lease is `SET key token NX PX ttl`; renewal and release compare the token in Lua, so a
worker whose lease expired (a long pause) can never extend or delete its successor's. The
result record is written by the outbox in the same Redis call that queues the terminal event.
All keys of one job share the hash tag `{job}` so the scripts stay valid on a Redis Cluster.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
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


class LeaseLost(Exception):
    """The lease expired or was taken over: another worker owns the job now."""


class Lease:
    """A token-guarded lock on one key; `Lease.on_job` is the render lease of a job."""

    def __init__(self, client: redis.Redis, key: str, *, ttl_s: float) -> None:
        self.client, self.key = client, key
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.token = secrets.token_hex(16)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    @classmethod
    def on_job(cls, client: redis.Redis, job_id: str, *, ttl_s: float) -> Lease:
        return cls(client, JobKeys(job_id).lease, ttl_s=ttl_s)

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> bool:
        return bool(self._release(keys=[self.key], args=[self.token]))

    def held(self) -> bool:
        value = self.client.get(self.key)
        return value is not None and value.decode() == self.token


class LeaseKeeper:
    """Renews a lease from a thread; `check()` raises LeaseLost once renewal failed for good."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ugen-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLost(f"lease on {self.lease.key} was lost")

    def _run(self) -> None:
        period_s = self.lease.ttl_ms / 3000
        failures = 0
        while not self._stop.wait(period_s):
            try:
                if self.lease.renew():
                    failures = 0
                    continue
                self.lost.set()  # the token is gone: someone else may hold the job now
                return
            except redis.RedisError as exc:
                failures += 1
                log.warning("lease renewal failed (%s), try %d", exc, failures)
                if failures >= 3:  # three periods without renewal: the ttl has run out
                    self.lost.set()
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
