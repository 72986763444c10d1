"""The control plane's settings, read once from the environment.

    settings = ApiSettings.from_env()
    settings.database_url        # sqlite:///<repo>/out/api.sqlite3 unless UGEN_API_DATABASE_URL

Every knob but two has a default that runs on a fresh clone: the embedded SQLite, Redis on
localhost as the worker's broker. The two secrets, UGEN_API_JWT_SECRET and UGEN_API_CALLBACK_SECRET,
must be set (the same on every replica): a secret made up per process would make each replica
refuse the events of jobs another one signed, and the tokens another one minted. Only the local
dev mode (UGEN_API_DEV=1, what `make api` sets) generates them once and keeps them in
out/api-secrets.json (mode 0600), so that a restart keeps tokens and jobs in flight valid.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from engine.settings import REPO_ROOT, env_float, env_int

DEFAULT_DB = f"sqlite:///{REPO_ROOT / 'out' / 'api.sqlite3'}"
SECRETS_FILE = REPO_ROOT / "out" / "api-secrets.json"
SECRET_NAMES = ("UGEN_API_JWT_SECRET", "UGEN_API_CALLBACK_SECRET")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


class MissingSecret(RuntimeError):
    """A secret the API needs is not set, outside the local dev mode."""


def _require_secrets() -> None:
    missing = [name for name in SECRET_NAMES if not os.environ.get(name)]
    if missing and not _env_bool("UGEN_API_DEV", False):
        raise MissingSecret(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Every API replica must "
            f"share them (events and tokens signed by one are checked by another); set them, or "
            f"UGEN_API_DEV=1 for a local run (what `make api` does).")


def _secret(name: str) -> str:
    """$name, else (dev mode) the one kept in the secrets file (made on first use)."""
    if value := os.environ.get(name):
        return value
    path = Path(os.environ.get("UGEN_API_SECRETS_FILE") or SECRETS_FILE)
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


@dataclass(frozen=True)
class ApiSettings:
    database_url: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    jwt_audience: str | None = None
    admin_token: str | None = None  # None: the /admin endpoints answer 401 to everyone
    broker_url: str = "redis://127.0.0.1:6379/0"
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
    configs_dir: Path = REPO_ROOT / "configs"
    migrate_on_start: bool = True

    @classmethod
    def from_env(cls) -> ApiSettings:
        env = os.environ.get
        _require_secrets()
        port = env_int("UGEN_API_PORT", 8000)
        return cls(
            database_url=env("UGEN_API_DATABASE_URL") or DEFAULT_DB,
            host=env("UGEN_API_HOST", "127.0.0.1"), port=port,
            jwt_secret=_secret("UGEN_API_JWT_SECRET"),
            jwt_audience=env("UGEN_API_JWT_AUDIENCE") or None,
            admin_token=env("UGEN_API_ADMIN_TOKEN") or None,
            broker_url=env("UGEN_BROKER_URL", "redis://127.0.0.1:6379/0"),
            queue=env("UGEN_QUEUE", "renders"),
            callback_url=env("UGEN_API_CALLBACK_URL") or f"http://127.0.0.1:{port}/internal/jobs/events",
            callback_secret=_secret("UGEN_API_CALLBACK_SECRET"),
            event_max_age_s=env_float("UGEN_API_EVENT_MAX_AGE_S", 300.0),
            limits=Limits(concurrent_jobs=env_int("UGEN_API_CONCURRENT_JOBS", 5),
                          daily_jobs=env_int("UGEN_API_DAILY_JOBS", 100),
                          concurrent_retry_after_s=env_int("UGEN_API_CONCURRENT_RETRY_AFTER_S", 30)),
            requeue_after_s=env_float("UGEN_API_REQUEUE_AFTER_S", 600.0),
            sweep_interval_s=env_float("UGEN_API_SWEEP_INTERVAL_S", 10.0),
            stall_after_s=env_float("UGEN_API_STALL_AFTER_S", 6 * 3600.0),
            webhook_retry_delays_s=tuple(float(s) for s in env("UGEN_API_WEBHOOK_RETRY_DELAYS_S", "1,4,16").split(",")),
            webhook_timeout_s=env_float("UGEN_API_WEBHOOK_TIMEOUT_S", 10.0),
            webhook_concurrency=max(1, env_int("UGEN_API_WEBHOOK_CONCURRENCY", 8)),
            sign_urls=_env_bool("UGEN_API_SIGN_URLS", False),
            signed_url_ttl_s=env_int("UGEN_API_SIGNED_URL_TTL_S", 3600),
            s3_endpoint_url=env("UGEN_S3_ENDPOINT_URL") or None, s3_region=env("UGEN_S3_REGION", "us-east-1"),
            allow_private_urls=_env_bool("UGEN_TEST_ALLOW_PRIVATE_URLS", False),
            configs_dir=Path(env("UGEN_CONFIGS_DIR") or REPO_ROOT / "configs"),
            migrate_on_start=_env_bool("UGEN_API_MIGRATE_ON_START", True),
        )
