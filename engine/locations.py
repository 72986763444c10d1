"""Where the engine finds the files it ships and keeps the ones it writes, checked out or installed.

    configs_root()   # <repo>/configs in a checkout; <site-packages>/engine/configs from the wheel
    data_root()      # <repo>/out in a checkout; $XDG_DATA_HOME/ugen-engine (~/.local/share/...) installed
    cache_root()     # <repo>/.cache in a checkout; $XDG_CACHE_HOME/ugen-engine (~/.cache/...) installed

A checkout is recognised by the pyproject.toml and configs/ beside the packages (the dev mode,
editable installs included). The wheel carries configs/ inside the engine package (setup.py
copies it in at build time), and everything written goes under the user's data or cache
directory, never beside the installed code.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CONFIGS = Path(__file__).resolve().parent / "configs"
APP_DIR = "ugen-engine"


def source_checkout() -> bool:
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "configs").is_dir()


def configs_root() -> Path:
    return REPO_ROOT / "configs" if source_checkout() else BUNDLED_CONFIGS


def data_root() -> Path:
    return REPO_ROOT / "out" if source_checkout() else _xdg("XDG_DATA_HOME", ".local/share") / APP_DIR


def cache_root() -> Path:
    return REPO_ROOT / ".cache" if source_checkout() else _xdg("XDG_CACHE_HOME", ".cache") / APP_DIR


def models_root() -> Path:
    return REPO_ROOT / "models_data" if source_checkout() else data_root() / "models"


def _xdg(variable: str, fallback: str) -> Path:
    """The XDG base directory: the variable when it is an absolute path, else ~/<fallback>."""
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path.home() / fallback
