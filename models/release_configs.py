"""The model releases' configuration files the repository keeps (configs/models/), checked out or installed.

    RELEASE_CONFIGS / "musetalk" / "musetalk.json"      # <repo>/configs/models/... in a checkout
    RELEASE_CONFIGS / "wan2.2-ti2v-5b.json"             # <site-packages>/engine/configs/models/... installed

The wheel carries configs/ inside the engine package (setup.py), so the installed copy is
looked for first; a checkout has none and reads the repository's own. models/ imports nothing
from engine/, hence this one-line echo of engine/locations.py.
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_INSTALLED = _ROOT / "engine" / "configs"
RELEASE_CONFIGS = (_INSTALLED if _INSTALLED.is_dir() else _ROOT / "configs") / "models"
