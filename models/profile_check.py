"""Is everything a profile needs present? Asked before a worker or a render starts.

    problems = validate_profile(Path("configs/profiles/gpu.yaml"), settings)   # [] when ready
    print(format_problems(problems, profile="gpu"))

    python scripts/check_profile.py --profile configs/profiles/gpu.yaml     # exit 0 ready, 1 not

Each configured backend class may define `check_requirements(**options) -> list[str]`, one
human-readable message per missing thing (a weights file with the command that fetches it, a
CUDA device that is not there, a library to install). No model is loaded and no GPU memory is
taken, so this runs in a second even for the GPU profile. Backends without it need nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.registry import ProfileError, Registry


def validate_profile(profile: str | Path | Registry, settings: Any) -> list[str]:
    """Messages for everything missing; `profile` is a name ("gpu"), a YAML path or a registry.

    `settings` is an engine.settings.Settings (configs dir, models dir, device, cache dir)."""
    if isinstance(profile, Registry):
        return profile.requirements()
    try:
        registry = Registry.from_settings(settings, profile=str(profile))
    except ProfileError as exc:
        return [str(exc)]
    return registry.requirements()


def format_problems(problems: list[str], *, profile: str) -> str:
    if not problems:
        return f"profile {profile}: every backend has what it needs"
    lines = [f"profile {profile} cannot run here; missing:"]
    return "\n".join([*lines, *(f"  - {p}" for p in problems)])
