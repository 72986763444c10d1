"""The control plane's settings, read once from the environment and validated.

    settings = ApiSettings.from_env()   # SettingsError names every bad variable; `python -m api` exits 78
    settings.database_url        # sqlite:///<data dir>/api.sqlite3 unless UGEN_API_DATABASE_URL
    describe(settings)           # the start-up log line

`ApiEnv` is the process's one pydantic-settings model: UGEN_API_* plus the variables it shares
with the worker (UGEN_BROKER_URL, UGEN_REDIS_URL, UGEN_QUEUE, UGEN_CONFIGS_DIR, UGEN_DATA_DIR and
the test-only UGEN_TEST_ALLOW_PRIVATE_URLS); the dataclasses hold the defaults.

What the API writes goes to the data directory, UGEN_DATA_DIR: out/ in a source checkout, else
$XDG_DATA_HOME/ugen-engine (~/.local/share/ugen-engine; engine/locations.py), never beside the
installed code.

Every knob but two has a default that runs on a fresh clone: the embedded SQLite, Redis on
localhost as the worker's broker. The two secrets, UGEN_API_JWT_SECRET and UGEN_API_CALLBACK_SECRET,
must be set (the same on every replica): a secret made up per process would make each replica
refuse the events of jobs another one signed, and the tokens another one minted. Each comes from
its variable, from a file named by <NAME>_FILE (a mounted secret; one trailing newline is
dropped), or from the file UGEN_SECRETS_DIR/<NAME>. Only the local dev mode (UGEN_API_DEV=1, what
`make api` sets) generates them once and keeps them in <data dir>/api-secrets.json (mode 0600),
so that a restart keeps tokens and jobs in flight valid.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.locations import configs_root, data_root
from engine.settings import read_env

DB_FILE = "api.sqlite3"
SECRETS_FILE = "api-secrets.json"
SECRET_NAMES = ("UGEN_API_JWT_SECRET", "UGEN_API_CALLBACK_SECRET")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


class MissingSecret(RuntimeError):
    """A secret the API needs is not set, outside the local dev mode."""


def _given_secret(name: str) -> str | None:
    """$name, else the contents of the file $name_FILE names, else UGEN_SECRETS_DIR/<name>."""
    if value := os.environ.get(name):
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path and os.environ.get("UGEN_SECRETS_DIR"):
        candidate = Path(os.environ["UGEN_SECRETS_DIR"]) / name
        path = str(candidate) if candidate.is_file() else None
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").removesuffix("\n") or None
    except OSError as exc:
        raise MissingSecret(f"{name}: cannot read its secret file {path}: {exc.strerror}") from None


def _require_secrets() -> None:
    missing = [name for name in SECRET_NAMES if not _given_secret(name)]
    if missing and not _env_bool("UGEN_API_DEV", False):
        raise MissingSecret(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set (nor <NAME>_FILE). "
            f"Every API replica must "
            f"share them (events and tokens signed by one are checked by another); set them, or "
            f"UGEN_API_DEV=1 for a local run (what `make api` does).")


def _secret(name: str, data_dir: Path) -> str:
    """The given secret (_given_secret), else (dev mode) the one kept in the data directory's
    secrets file (made on first use)."""
    if value := _given_secret(name):
        return value
    path = Path(os.environ.get("UGEN_API_SECRETS_FILE") or data_dir / SECRETS_FILE)
    kept = json.loads(path.read_text()) if path.exists() else {}
    if name not in kept:
        kept[name] = secrets.token_hex(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(kept, indent=2))
    return kept[name]


@dataclass(frozen=True)
class Limits:
    """Per-account job limits; an account row may override each (NULL = these)."""

    concurrent_jobs: int = 5
    daily_jobs: int = 100
    # A concurrent-limit 429 cannot know when a job will end: this is the Retry-After it sends.
    concurrent_retry_after_s: int = 30
    # A job cancelled mid-render holds its slot until its worker lets go, at most this long.
    cancel_hold_s: float = 6 * 3600.0


@dataclass(frozen=True)
class ApiSettings:
    database_url: str = field(default_factory=lambda: f"sqlite:///{data_root() / DB_FILE}")
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    jwt_audience: str | None = None
    admin_token: str | None = None  # None: the /admin endpoints answer 401 to everyone
    broker_url: str = "redis://127.0.0.1:6379/0"
    redis_url: str = "redis://127.0.0.1:6379/0"  # the workers' job state: where cancel flags go
    queue: str = "renders"
    # Where workers POST progress events: this server's address as the workers see it.
    callback_url: str = "http://127.0.0.1:8000/internal/jobs/events"
    callback_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    event_max_age_s: float = 300.0
    limits: Limits = field(default_factory=Limits)
    requeue_after_s: float = 600.0  # a job still queued this long after its send is sent again
    sweep_interval_s: float = 10.0
    stall_after_s: float = 6 * 3600.0  # a processing job with no event this long is failed
    webhook_retry_delays_s: tuple[float, ...] = (1.0, 4.0, 16.0)
    webhook_timeout_s: float = 10.0
    webhook_concurrency: int = 8  # webhooks in flight at once, each on its own thread
    # Sign the links to a job's files when they are read (api/links.py), with these S3 settings.
    sign_urls: bool = False
    signed_url_ttl_s: int = 3600
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # Test-only: webhooks to http:// and to loopback/private addresses. Never in production.
    allow_private_urls: bool = False
    configs_dir: Path = field(default_factory=configs_root)
    migrate_on_start: bool = True

    @classmethod
    def from_env(cls) -> ApiSettings:
        """Raises SettingsError naming every variable that does not validate."""
        env = read_env(ApiEnv)  # a bad variable is named first, then a missing secret
        _require_secrets()
        return cls(
            database_url=env.database_url or f"sqlite:///{env.data_dir / DB_FILE}", host=env.host, port=env.port,
            jwt_secret=_secret("UGEN_API_JWT_SECRET", env.data_dir), jwt_audience=env.jwt_audience,
            admin_token=env.admin_token, broker_url=env.broker_url,
            redis_url=env.redis_url or _state_redis(env.broker_url), queue=env.queue,
            callback_url=env.callback_url or f"http://127.0.0.1:{env.port}/internal/jobs/events",
            callback_secret=_secret("UGEN_API_CALLBACK_SECRET", env.data_dir), event_max_age_s=env.event_max_age_s,
            limits=Limits(concurrent_jobs=env.concurrent_jobs, daily_jobs=env.daily_jobs,
                          concurrent_retry_after_s=env.concurrent_retry_after_s,
                          cancel_hold_s=env.cancel_hold_s),
            requeue_after_s=env.requeue_after_s, sweep_interval_s=env.sweep_interval_s,
            stall_after_s=env.stall_after_s, webhook_retry_delays_s=env.webhook_retry_delays_s,
            webhook_timeout_s=env.webhook_timeout_s, webhook_concurrency=env.webhook_concurrency,
            sign_urls=env.sign_urls, signed_url_ttl_s=env.signed_url_ttl_s,
            s3_endpoint_url=env.s3_endpoint_url, s3_region=env.s3_region,
            allow_private_urls=env.allow_private_urls,
            configs_dir=env.configs_dir, migrate_on_start=env.migrate_on_start)


def _state_redis(broker_url: str) -> str:
    return broker_url if broker_url.startswith(("redis://", "rediss://")) else "redis://127.0.0.1:6379/0"


def _shared(name: str) -> Any:
    """A variable the API shares with the worker: no UGEN_API_ prefix."""
    return Field(validation_alias=AliasChoices(name))


A, L = ApiSettings, Limits  # the defaults, from the dataclasses


class ApiEnv(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UGEN_API_", extra="ignore", frozen=True,
                                      env_ignore_empty=True,
                                      secrets_dir=os.environ.get("UGEN_SECRETS_DIR") or None)
    database_url: str | None = None
    host: str = A.host
    port: Annotated[int, Field(ge=1, le=65535)] = A.port
    jwt_audience: str | None = None
    admin_token: str | None = None
    broker_url: Annotated[str, _shared("UGEN_BROKER_URL")] = A.broker_url
    redis_url: Annotated[str | None, _shared("UGEN_REDIS_URL")] = None
    queue: Annotated[str, _shared("UGEN_QUEUE")] = A.queue
    callback_url: str | None = None
    event_max_age_s: PositiveFloat = A.event_max_age_s
    concurrent_jobs: PositiveInt = L.concurrent_jobs
    daily_jobs: PositiveInt = L.daily_jobs
    concurrent_retry_after_s: PositiveInt = L.concurrent_retry_after_s
    cancel_hold_s: PositiveFloat = L.cancel_hold_s
    requeue_after_s: PositiveFloat = A.requeue_after_s
    sweep_interval_s: PositiveFloat = A.sweep_interval_s
    stall_after_s: PositiveFloat = A.stall_after_s
    webhook_retry_delays_s: Annotated[tuple[NonNegativeFloat, ...], NoDecode] = A.webhook_retry_delays_s
    webhook_timeout_s: PositiveFloat = A.webhook_timeout_s
    webhook_concurrency: PositiveInt = A.webhook_concurrency
    sign_urls: bool = A.sign_urls
    signed_url_ttl_s: PositiveInt = A.signed_url_ttl_s
    s3_endpoint_url: Annotated[str | None, _shared("UGEN_S3_ENDPOINT_URL")] = None
    s3_region: Annotated[str, _shared("UGEN_S3_REGION")] = A.s3_region
    allow_private_urls: Annotated[bool, _shared("UGEN_TEST_ALLOW_PRIVATE_URLS")] = False
    configs_dir: Annotated[Path, _shared("UGEN_CONFIGS_DIR")] = Field(default_factory=configs_root)
    data_dir: Annotated[Path, _shared("UGEN_DATA_DIR")] = Field(default_factory=data_root)
    migrate_on_start: bool = A.migrate_on_start

    @field_validator("webhook_retry_delays_s", mode="before")
    @classmethod
    def _comma_separated(cls, raw: Any) -> Any:
        return tuple(part.strip() for part in raw.split(",")) if isinstance(raw, str) else raw


def describe(settings: ApiSettings) -> str:
    """One line for the start-up log: where jobs go and whether the test-only allowance is on."""
    urls = "private URLs ALLOWED (test only)" if settings.allow_private_urls else "private URLs refused"
    return (f"database {settings.database_url.split('@')[-1]}; broker {settings.broker_url.split('@')[-1]}, "
            f"queue {settings.queue}; cancel flags in {settings.redis_url.split('@')[-1]}; webhooks: {urls}")
