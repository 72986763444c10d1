"""The queue worker's knobs, read once from the environment.

    settings = WorkerSettings.from_env()
    settings.time_limit_s(video_s=24.0)   # 780.0 with the defaults

Defaults suit one GPU container running one render at a time behind Redis. Times carry their
unit in the name; every duration a broker or an HTTP call waits is bounded by one of these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.settings import Settings, env_float, env_int

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class WorkerSettings:
    engine: Settings = field(default_factory=Settings)
    broker_url: str = DEFAULT_REDIS_URL  # amqp://... selects RabbitMQ
    redis_url: str = DEFAULT_REDIS_URL  # leases, results and the event outbox live here
    queue: str = "renders"
    # Retries: transient errors only, exponential backoff between these bounds.
    max_retries: int = 3
    min_backoff_s: float = 15.0
    max_backoff_s: float = 300.0  # well under RabbitMQ's 30 min consumer_timeout
    # Time limit per job: base + per second of video, capped below consumer_timeout.
    time_limit_base_s: float = 300.0
    time_limit_per_video_s: float = 20.0
    time_limit_max_s: float = 1500.0
    shutdown_grace_s: float = 600.0  # SIGTERM: finish within this, or hand the job back
    lease_ttl_s: float = 30.0  # renewed every third of it while rendering
    lease_busy_delay_s: float = 15.0  # a job leased elsewhere is looked at again after this
    max_deferrals: int = 240
    result_ttl_s: float = 30 * 86400.0
    # Redis broker: when a silent worker counts as dead, and how often (per million commands)
    # a command also requeues dead workers' messages.
    redis_heartbeat_timeout_s: float = 60.0
    redis_maintenance_chance: int = 10_000
    # Progress events.
    progress_interval_s: float = 1.0
    callback_timeout_s: float = 10.0
    callback_max_backoff_s: float = 30.0
    outbox_ttl_s: float = 7 * 86400.0
    # Health.
    metrics_port: int = 9191  # 0 turns the Prometheus endpoint off
    liveness_dir: Path = field(default_factory=lambda: Path("/tmp/ugen-worker"))
    liveness_stall_s: float = 300.0  # busy without progress this long: not alive

    @classmethod
    def from_env(cls) -> WorkerSettings:
        broker_url = _env("UGEN_BROKER_URL", DEFAULT_REDIS_URL)
        default_redis = broker_url if broker_url.startswith(("redis://", "rediss://")) else DEFAULT_REDIS_URL
        return cls(
            engine=Settings.from_env(), broker_url=broker_url,
            redis_url=_env("UGEN_REDIS_URL", default_redis), queue=_env("UGEN_QUEUE", "renders"),
            max_retries=env_int("UGEN_MAX_RETRIES", 3),
            min_backoff_s=env_float("UGEN_MIN_BACKOFF_S", 15.0),
            max_backoff_s=env_float("UGEN_MAX_BACKOFF_S", 300.0),
            time_limit_base_s=env_float("UGEN_TIME_LIMIT_BASE_S", 300.0),
            time_limit_per_video_s=env_float("UGEN_TIME_LIMIT_PER_VIDEO_S", 20.0),
            time_limit_max_s=env_float("UGEN_TIME_LIMIT_MAX_S", 1500.0),
            shutdown_grace_s=env_float("UGEN_SHUTDOWN_GRACE_S", 600.0),
            lease_ttl_s=env_float("UGEN_LEASE_TTL_S", 30.0),
            lease_busy_delay_s=env_float("UGEN_LEASE_BUSY_DELAY_S", 15.0),
            max_deferrals=env_int("UGEN_MAX_DEFERRALS", 240),
            result_ttl_s=env_float("UGEN_RESULT_TTL_S", 30 * 86400.0),
            redis_heartbeat_timeout_s=env_float("UGEN_REDIS_HEARTBEAT_TIMEOUT_S", 60.0),
            redis_maintenance_chance=env_int("UGEN_REDIS_MAINTENANCE_CHANCE", 10_000),
            progress_interval_s=env_float("UGEN_PROGRESS_INTERVAL_S", 1.0),
            callback_timeout_s=env_float("UGEN_CALLBACK_TIMEOUT_S", 10.0),
            callback_max_backoff_s=env_float("UGEN_CALLBACK_MAX_BACKOFF_S", 30.0),
            outbox_ttl_s=env_float("UGEN_OUTBOX_TTL_S", 7 * 86400.0),
            metrics_port=env_int("UGEN_METRICS_PORT", 9191),
            liveness_dir=Path(_env("UGEN_LIVENESS_DIR", "/tmp/ugen-worker")),
            liveness_stall_s=env_float("UGEN_LIVENESS_STALL_S", 300.0),
        )

    def time_limit_s(self, *, video_s: float) -> float:
        return min(self.time_limit_max_s, self.time_limit_base_s + self.time_limit_per_video_s * video_s)
