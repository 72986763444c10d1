"""Process-wide settings, read once from the environment and validated.

    settings = Settings.from_env()     # SettingsError names every bad variable and what it takes
    env = read_env(EngineEnv)          # the pydantic-settings model behind it (UGEN_* variables)

Every knob has a default that works on a fresh clone: configs and caches live beside the repo
(installed from the wheel: the bundled configs and the user's data and cache directories,
engine/locations.py), URLs are fetched only from public addresses, and the CPU profile renders. The values the code
passes around are the frozen dataclasses below; the environment is read only through the
pydantic-settings models (this one, and the worker's and API's, which extend or mirror it), so
a typo such as UGEN_STORAGE=S3 or UGEN_LEASE_TTL_S=30s stops the process at start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import AliasChoices, Field, PositiveFloat, PositiveInt, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.locations import REPO_ROOT, cache_root, configs_root, data_root, models_root

__all__ = ["REPO_ROOT", "EngineEnv", "FetchLimits", "Settings", "SettingsError", "read_env"]
M = TypeVar("M", bound=BaseSettings)


class SettingsError(ValueError):
    """Variables the process cannot use; the message names each one and what it accepts."""


def read_env(model: type[M]) -> M:
    """`model()` read from the environment, or a SettingsError listing every bad variable."""
    try:
        return model()
    except ValidationError as exc:
        raise SettingsError(explain(model, exc)) from None


def explain(model: type[BaseSettings], exc: ValidationError) -> str:
    prefix = model.model_config.get("env_prefix", "")
    lines = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        info = model.model_fields.get(name)
        if info is not None:  # a field read as prefix + its name; otherwise `name` is its alias already
            alias = info.validation_alias
            alias = alias.choices[0] if isinstance(alias, AliasChoices) else alias
            name = alias if isinstance(alias, str) else (prefix + name).upper()
        lines.append(f"{name}={error['input']!r}: {error['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)


@dataclass(frozen=True)
class FetchLimits:
    """Caps on an untrusted product image. Defaults fit any real product shot."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    timeout_s: float = 15.0
    max_redirects: int = 5
    music_timeout_s: float = 60.0  # a job's uploaded track (up to 20 MB) from the API
    # Test-only: lets tests serve images from 127.0.0.1. Never set in production.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class Settings:
    configs_dir: Path = field(default_factory=configs_root)
    cache_dir: Path = field(default_factory=cache_root)
    data_dir: Path = field(default_factory=data_root)  # what a process keeps: the API's SQLite, dev secrets
    work_root: Path | None = None  # None: the system temp dir
    profile: str = "cpu"
    # Model weights: a profile's relative model_dir/model_path options live under it.
    models_dir: Path = field(default_factory=models_root)
    device: str | None = None  # overrides a profile's `device` (auto, cpu, cuda, cuda:N)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    ffmpeg_timeout_s: float = 600.0

    @classmethod
    def from_env(cls) -> Settings:
        """Raises SettingsError naming every variable that does not validate."""
        return read_env(EngineEnv).engine()


class EngineEnv(BaseSettings):
    """The engine's variables (UGEN_*), validated together; worker and API models extend it.
    A variable set to "" counts as unset; UGEN_SECRETS_DIR names a folder of secret files, one
    per variable (e.g. mounted Kubernetes secrets)."""

    model_config = SettingsConfigDict(env_prefix="UGEN_", extra="ignore", frozen=True, env_ignore_empty=True,
                                      secrets_dir=os.environ.get("UGEN_SECRETS_DIR") or None)
    configs_dir: Path = Field(default_factory=configs_root)
    cache_dir: Path = Field(default_factory=cache_root)
    data_dir: Path = Field(default_factory=data_root)
    work_root: Path | None = None
    profile: str = Settings.profile
    models_dir: Path = Field(default_factory=models_root)
    device: Annotated[str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?)$")] | None = None
    fetch_max_bytes: PositiveInt = FetchLimits.max_bytes
    fetch_max_pixels: PositiveInt = FetchLimits.max_pixels
    fetch_timeout_s: PositiveFloat = FetchLimits.timeout_s
    test_allow_private_urls: bool = False  # test-only: private and loopback URLs are fetched

    def engine(self) -> Settings:
        home = Path.home()
        fetch = FetchLimits(max_bytes=self.fetch_max_bytes, max_pixels=self.fetch_max_pixels,
                            timeout_s=self.fetch_timeout_s,
                            allow_private_addresses=self.test_allow_private_urls)
        return Settings(configs_dir=_home(self.configs_dir, home), cache_dir=_home(self.cache_dir, home),
                        data_dir=_home(self.data_dir, home), work_root=self.work_root, profile=self.profile,
                        models_dir=_home(self.models_dir, home),
                        device=self.device, fetch=fetch)


def _home(path: Path, home: Path) -> Path:
    return home / path.relative_to("~") if path.parts[:1] == ("~",) else path
