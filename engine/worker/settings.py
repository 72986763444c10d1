"""The queue worker's knobs, read once from the environment and validated.

    settings = WorkerSettings.from_env()   # SettingsError names every bad variable; `ugen-worker` exits 78
    settings.time_limit_s(video_s=24.0)    # 780.0 with the defaults
    settings.storage.kind, settings.engine.fetch.allow_private_addresses
    describe(settings)                     # the start-up log line: storage, URL mode, URL allowance

Defaults suit one GPU container running one render at a time behind Redis. Times carry their
unit in the name; every duration a broker or an HTTP call waits is bounded by one of these.
`WorkerEnv` is the one pydantic-settings model of a worker process: the engine's variables
(engine/settings.py), these, and where finished videos go (UGEN_STORAGE, UGEN_S3_*), each
`UGEN_` + the field's name; the dataclasses hold the defaults and are what the code passes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, model_validator

from engine.settings import EngineEnv, Settings, read_env

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class StorageSettings:
    """Where finished videos go (engine/worker/storage.py)."""

    kind: Literal["local", "s3"] = "local"
    local_dir: Path = field(default_factory=lambda: Path("out/storage"))
    local_base_url: str | None = None  # None: file:// URLs
    s3_endpoint_url: str | None = None  # None: AWS
    s3_region: str = "us-east-1"
    s3_bucket: str = "ugen-renders"
    prefix: str = "renders"
    url_mode: Literal["public", "presigned"] = "presigned"
    public_base_url: str | None = None  # e.g. a CDN; None: <endpoint>/<bucket>
    presign_expiry_s: int = 7 * 86400  # S3's maximum
    multipart_threshold_mb: int = 64
    multipart_chunk_mb: int = 16
    upload_retry_s: float = 60.0

    @classmethod
    def from_env(cls) -> StorageSettings:
        return WorkerSettings.from_env().storage


@dataclass(frozen=True)
class WorkerSettings:
    engine: Settings = field(default_factory=Settings)
    storage: StorageSettings = field(default_factory=StorageSettings)
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
        return read_env(WorkerEnv).worker()

    def time_limit_s(self, *, video_s: float) -> float:
        return min(self.time_limit_max_s, self.time_limit_base_s + self.time_limit_per_video_s * video_s)


W, S = WorkerSettings, StorageSettings  # the defaults, from the dataclasses


class WorkerEnv(EngineEnv):
    broker_url: str = W.broker_url  # amqp://... selects RabbitMQ
    redis_url: str | None = None  # None: the broker's URL when it is Redis
    queue: str = W.queue
    max_retries: NonNegativeInt = W.max_retries
    min_backoff_s: PositiveFloat = W.min_backoff_s
    max_backoff_s: PositiveFloat = W.max_backoff_s
    time_limit_base_s: PositiveFloat = W.time_limit_base_s
    time_limit_per_video_s: Annotated[float, Field(ge=0)] = W.time_limit_per_video_s
    time_limit_max_s: PositiveFloat = W.time_limit_max_s
    shutdown_grace_s: PositiveFloat = W.shutdown_grace_s
    lease_ttl_s: Annotated[float, Field(ge=1)] = W.lease_ttl_s
    lease_busy_delay_s: PositiveFloat = W.lease_busy_delay_s
    max_deferrals: NonNegativeInt = W.max_deferrals
    result_ttl_s: PositiveFloat = W.result_ttl_s
    redis_heartbeat_timeout_s: PositiveFloat = W.redis_heartbeat_timeout_s
    redis_maintenance_chance: Annotated[int, Field(ge=0, le=1_000_000)] = W.redis_maintenance_chance
    progress_interval_s: PositiveFloat = W.progress_interval_s
    callback_timeout_s: PositiveFloat = W.callback_timeout_s
    callback_max_backoff_s: PositiveFloat = W.callback_max_backoff_s
    outbox_ttl_s: PositiveFloat = W.outbox_ttl_s
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = W.metrics_port
    liveness_dir: Path = Path("/tmp/ugen-worker")
    liveness_stall_s: PositiveFloat = W.liveness_stall_s
    storage: Literal["local", "s3"] = S.kind
    storage_dir: Path = Path("out/storage")
    storage_base_url: str | None = S.local_base_url
    storage_prefix: str = S.prefix
    s3_endpoint_url: str | None = S.s3_endpoint_url
    s3_region: str = S.s3_region
    s3_bucket: str = S.s3_bucket
    s3_url_mode: Literal["public", "presigned"] = S.url_mode
    s3_public_base_url: str | None = S.public_base_url
    s3_presign_expiry_s: Annotated[int, Field(ge=1, le=7 * 86400)] = S.presign_expiry_s
    s3_multipart_threshold_mb: Annotated[int, Field(ge=5)] = S.multipart_threshold_mb
    s3_multipart_chunk_mb: Annotated[int, Field(ge=5)] = S.multipart_chunk_mb
    upload_retry_s: Annotated[float, Field(ge=0)] = S.upload_retry_s

    @model_validator(mode="after")
    def _redis_beside_a_redis_broker(self) -> WorkerEnv:
        if self.redis_url is None:
            redis_broker = self.broker_url.startswith(("redis://", "rediss://"))
            object.__setattr__(self, "redis_url", self.broker_url if redis_broker else DEFAULT_REDIS_URL)
        return self

    def storage_settings(self) -> StorageSettings:
        return StorageSettings(
            kind=self.storage, local_dir=self.storage_dir, local_base_url=self.storage_base_url,
            s3_endpoint_url=self.s3_endpoint_url, s3_region=self.s3_region, s3_bucket=self.s3_bucket,
            prefix=self.storage_prefix, url_mode=self.s3_url_mode, public_base_url=self.s3_public_base_url,
            presign_expiry_s=self.s3_presign_expiry_s, multipart_threshold_mb=self.s3_multipart_threshold_mb,
            multipart_chunk_mb=self.s3_multipart_chunk_mb, upload_retry_s=self.upload_retry_s)

    def worker(self) -> WorkerSettings:
        knobs = {name: getattr(self, name) for name in W.__dataclass_fields__
                 if name not in ("engine", "storage")}
        return WorkerSettings(**knobs, engine=self.engine(), storage=self.storage_settings())


def describe(settings: WorkerSettings, storage: StorageSettings | None = None) -> str:
    """One line for the start-up log: what this worker will do with a finished video."""
    st = storage or settings.storage
    where = (f"s3 (bucket {st.s3_bucket} at {st.s3_endpoint_url or 'AWS'}), URLs {st.url_mode}"
             if st.kind == "s3" else f"local ({st.local_dir}), URLs {st.local_base_url or 'file://'}")
    urls = ("private URLs ALLOWED (test only)" if settings.engine.fetch.allow_private_addresses
            else "private URLs refused")
    return f"storage {where}; {urls}; broker {settings.broker_url.split('@')[-1]}; queue {settings.queue}"
