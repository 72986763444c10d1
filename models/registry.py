"""Backends by name, each loaded once per process.

    registry = Registry.from_profile(Path("configs/profiles/cpu.yaml"), cache_dir=Path(".cache"))
    voice = registry.voice("joe")   # loaded on first use, the same object afterwards

Heavy libraries are imported inside the backend modules, so importing this costs nothing.
A profile naming a backend whose extra is not installed fails with the `pip install` that fixes it.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.base import CutoutBackend, MusicBackend, PersonaAnimator, ScriptWriter, VoiceBackend

# role -> backend name -> (module, class, extra that installs its libraries)
BACKENDS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "script": {"copywriter": ("models.copywriter", "TemplateCopywriter", None),
               "smollm2": ("models.guarded_writer", "smollm2_writer", "llm"),
               "transformers": ("models.guarded_writer", "transformers_writer", "llm"),
               "openai": ("models.guarded_writer", "openai_writer", None)},
    "voice": {"piper": ("models.piper_voice", "PiperVoiceBackend", None)},
    "animator": {"viseme": ("models.viseme_animator", "VisemeAnimator", None),
                 "musetalk": ("models.musetalk", "MuseTalkAnimator", "gpu")},
    "cutout": {"classical": ("models.cutout_classical", "ClassicalCutout", None)},
    "music": {"synth": ("models.music_synth", "SynthMusic", None)},
}
ROLES = ("script", "voice", "animator", "cutout", "music", "encoder")


class ProfileError(ValueError):
    pass


def backend_name(entry: str | dict[str, Any]) -> str:
    """A profile entry is a backend name, or {backend: NAME, options: {...}} for its arguments."""
    return str(entry["backend"]) if isinstance(entry, dict) else str(entry)


def _is_backend_mapping(entry: dict[str, Any]) -> bool:
    return ("backend" in entry and set(entry) <= {"backend", "options"}
            and isinstance(entry.get("options") or {}, dict))


def load_profile(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ProfileError(f"profile not found: {path}")
    data = yaml.safe_load(path.read_text()) or {}
    missing = [role for role in ROLES if role not in data]
    if missing:
        raise ProfileError(f"profile {path.name} names no backend for: {', '.join(missing)}")
    for role, entry in data.items():
        if isinstance(entry, dict) and not _is_backend_mapping(entry):
            raise ProfileError(f"profile {path.name}: {role} must be a backend name or "
                               f"{{backend: NAME, options: {{...}}}}, not {entry!r}")
        name = backend_name(entry)
        if role != "encoder" and name not in BACKENDS.get(role, {}):
            raise ProfileError(f"profile {path.name}: unknown {role} backend {name!r}")
    return {str(k): v if isinstance(v, dict) else str(v) for k, v in data.items()}


def _construct(role: str, name: str, **kwargs: Any) -> Any:
    module_name, class_name, extra = BACKENDS[role][name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'ugen-engine[{extra}]'" if extra else "pip install -e ."
        raise ImportError(f"{role} backend {name!r} needs {exc.name}: run {hint}") from exc
    return getattr(module, class_name)(**kwargs)


@dataclass
class Registry:
    profile: dict[str, Any]  # role -> backend name, or {backend, options}
    cache_dir: Path
    _loaded: dict[tuple, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_profile(cls, path: Path, *, cache_dir: Path) -> Registry:
        return cls(profile=load_profile(path), cache_dir=cache_dir)

    def _get(self, role: str, key: tuple, **kwargs: Any) -> Any:
        with self._lock:
            if (role, *key) not in self._loaded:
                entry = self.profile[role]
                options = (entry.get("options") or {}) if isinstance(entry, dict) else {}
                self._loaded[(role, *key)] = _construct(role, backend_name(entry), **options,
                                                        **kwargs)
            return self._loaded[(role, *key)]

    def script_writer(self) -> ScriptWriter:
        return self._get("script", ())

    def voice(self, model_path: Path, *, voice_id: str) -> VoiceBackend:
        return self._get("voice", (voice_id,), model_path=model_path,
                         cache_dir=self.cache_dir / "voices")

    def animator(self) -> PersonaAnimator:
        return self._get("animator", (), cache_dir=self.cache_dir / "personas")

    def cutout(self) -> CutoutBackend:
        return self._get("cutout", ())

    def music(self) -> MusicBackend:
        return self._get("music", ())
