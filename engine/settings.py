"""Process-wide settings, read once from the environment.

Every knob has a default that works on a fresh clone: configs and caches live beside the repo,
URLs are fetched only from public addresses, and the CPU profile renders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser() if raw else default


@dataclass(frozen=True)
class FetchLimits:
    """Caps on an untrusted product image. Defaults fit any real product shot."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    timeout_s: float = 15.0
    max_redirects: int = 5
    # Test-only: lets tests serve images from 127.0.0.1. Never set in production.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class Settings:
    configs_dir: Path = field(default_factory=lambda: REPO_ROOT / "configs")
    cache_dir: Path = field(default_factory=lambda: REPO_ROOT / ".cache")
    work_root: Path | None = None  # None: the system temp dir
    profile: str = "cpu"
    # Model weights: a profile's relative model_dir/model_path options live under it.
    models_dir: Path = field(default_factory=lambda: REPO_ROOT / "models_data")
    device: str | None = None  # overrides a profile's `device` (auto, cpu, cuda, cuda:N)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    ffmpeg_timeout_s: float = 600.0

    @classmethod
    def from_env(cls) -> Settings:
        work_root = os.environ.get("UGEN_WORK_ROOT")
        return cls(
            configs_dir=_env_path("UGEN_CONFIGS_DIR", REPO_ROOT / "configs"),
            cache_dir=_env_path("UGEN_CACHE_DIR", REPO_ROOT / ".cache"),
            work_root=Path(work_root) if work_root else None,
            profile=os.environ.get("UGEN_PROFILE", "cpu"),
            models_dir=_env_path("UGEN_MODELS_DIR", REPO_ROOT / "models_data"),
            device=os.environ.get("UGEN_DEVICE") or None,
            fetch=FetchLimits(
                max_bytes=env_int("UGEN_FETCH_MAX_BYTES", 20 * 1024 * 1024),
                max_pixels=env_int("UGEN_FETCH_MAX_PIXELS", 40_000_000),
                timeout_s=env_float("UGEN_FETCH_TIMEOUT_S", 15.0),
                allow_private_addresses=_env_bool("UGEN_TEST_ALLOW_PRIVATE_URLS", False),
            ),
        )
