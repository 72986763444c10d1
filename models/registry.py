"""Backends by name, each loaded once per process, on the device the profile asks for.

    registry = Registry.from_settings(settings)        # configs/profiles/$UGEN_PROFILE.yaml
    registry.requirements()                            # [] or what is missing (files, GPU, extras)
    voice = registry.voice(path, voice_id="joe")       # loaded on first use, the same object afterwards
    registry.warm_up()                                 # {role: seconds} for backends that offer it

    python scripts/check_profile.py --profile configs/profiles/gpu.yaml

A profile maps each role to a backend name, or to {backend: NAME, options: {...}} whose options
are the backend's keyword arguments. A top-level `device` (auto, cpu, cuda, cuda:N) is handed
to every torch backend that has no `device` option of its own; $UGEN_DEVICE overrides it.
Relative `model_dir`/`model_path` options are resolved against the models directory
($UGEN_MODELS_DIR). A backend class may define `check_requirements(**options) -> list[str]`;
`requirements()` asks every configured one, without loading any model.

Heavy libraries are imported inside the backend modules, so importing this costs nothing.
A profile naming a backend whose extra is not installed fails with the `pip install` that fixes it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.base import (
    CutoutBackend,
    KeyframeBackend,
    MotionBackend,
    MusicBackend,
    PersonaAnimator,
    ScriptWriter,
    VoiceBackend,
)

log = logging.getLogger(__name__)

# role -> backend name -> (module, class, extra that installs its libraries)
BACKENDS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "script": {"copywriter": ("models.script.copywriter.writer", "TemplateCopywriter", None),
               "smollm2": ("models.script.llm.guarded", "smollm2_writer", "llm"),
               "transformers": ("models.script.llm.guarded", "TransformersWriter", "llm"),
               "openai": ("models.script.llm.guarded", "openai_writer", None)},
    "voice": {"piper": ("models.voice.piper", "PiperVoiceBackend", None),
              "coqui": ("models.voice.coqui.voice", "CoquiVoiceBackend", "coqui")},
    "animator": {"viseme": ("models.persona.viseme.animator", "VisemeAnimator", None),
                 "musetalk": ("models.persona.musetalk", "MuseTalkAnimator", "gpu")},
    "cutout": {"classical": ("models.cutout.classical", "ClassicalCutout", None),
               "segmentation": ("models.cutout.segmentation", "SegmentationCutout", "gpu")},
    "music": {"synth": ("models.music.synth", "SynthMusic", None)},
    "keyframe": {"qwen-image-edit": ("models.keyframe", "QwenEditKeyframes", "generative")},
    "motion": {"wan": ("models.motion", "WanMotion", "generative")},
}
ROLES = ("script", "voice", "animator", "cutout", "music", "encoder")
# The generative tier's roles: a profile names both or neither (configs/profiles/gpu-generative.yaml).
OPTIONAL_ROLES = ("keyframe", "motion")
ENCODERS = ("libx264", "nvenc")  # nvenc falls back to libx264 where the GPU encoder is absent
PROFILE_SETTINGS = ("device",)  # top-level keys that are not roles
# Torch backends: they take a `device` keyword; the registry resolves "auto" before building.
DEVICE_BACKENDS = {("script", "smollm2"), ("script", "transformers"), ("voice", "coqui"),
                   ("animator", "musetalk"), ("cutout", "segmentation"),
                   ("keyframe", "qwen-image-edit"), ("motion", "wan")}
PATH_OPTIONS = ("model_dir", "model_path", "aligner_dir")


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
    for key, entry in data.items():
        if key in PROFILE_SETTINGS:
            continue
        if key not in ROLES + OPTIONAL_ROLES:
            raise ProfileError(f"profile {path.name}: unknown key {key!r} (roles: "
                               f"{', '.join(ROLES + OPTIONAL_ROLES)}; settings: "
                               f"{', '.join(PROFILE_SETTINGS)})")
        if isinstance(entry, dict) and not _is_backend_mapping(entry):
            raise ProfileError(f"profile {path.name}: {key} must be a backend name or "
                               f"{{backend: NAME, options: {{...}}}}, not {entry!r}")
        known = ENCODERS if key == "encoder" else BACKENDS[key]
        if backend_name(entry) not in known:
            raise ProfileError(f"profile {path.name}: unknown {key} backend "
                               f"{backend_name(entry)!r} (known: {', '.join(known)})")
    if len([role for role in OPTIONAL_ROLES if role in data]) == 1:
        raise ProfileError(f"profile {path.name}: the generative tier needs both "
                           f"{' and '.join(OPTIONAL_ROLES)}")
    return {str(k): v if isinstance(v, dict) else str(v) for k, v in data.items()}


def backend_class(role: str, name: str) -> Any:
    """The class (or factory) that builds backend `name`; ImportError names the install."""
    module_name, class_name, extra = BACKENDS[role][name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'ugen-engine[{extra}]'" if extra else "pip install -e ."
        raise ImportError(f"{role} backend {name!r} needs {exc.name}: run {hint}") from exc
    return getattr(module, class_name)


@dataclass
class Registry:
    profile: dict[str, Any]  # role -> backend name, or {backend, options}; plus `device`
    cache_dir: Path
    models_dir: Path | None = None  # relative model paths in options are under it
    device: str | None = None  # overrides the profile's `device` (settings: $UGEN_DEVICE)
    _loaded: dict[tuple, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_profile(cls, path: Path, *, cache_dir: Path, models_dir: Path | None = None,
                     device: str | None = None) -> Registry:
        return cls(profile=load_profile(path), cache_dir=cache_dir, models_dir=models_dir,
                   device=device)

    @classmethod
    def from_settings(cls, settings: Any, *, profile: str | None = None) -> Registry:
        """engine.settings.Settings: its profile (or `profile`), cache, models dir and device."""
        name = profile or settings.profile
        path = Path(name) if name.endswith((".yaml", ".yml")) else \
            settings.configs_dir / "profiles" / f"{name}.yaml"
        return cls.from_profile(path, cache_dir=settings.cache_dir,
                                models_dir=settings.models_dir, device=settings.device)

    @property
    def backends(self) -> dict[str, str]:
        """role -> backend name, for every configured role but the encoder."""
        return {role: backend_name(self.profile[role]) for role in ROLES + OPTIONAL_ROLES
                if role != "encoder" and role in self.profile}

    @property
    def generative(self) -> bool:
        """The profile runs the generative tier (keyframes and motion)."""
        return all(role in self.profile for role in OPTIONAL_ROLES)

    def options(self, role: str) -> dict[str, Any]:
        """The profile's options for `role` as its backend receives them: model paths made
        absolute, and the profile's device added where the backend runs on torch. The device
        is as requested ("auto" stays "auto"); building resolves it."""
        entry = self.profile[role]
        options = dict((entry.get("options") or {}) if isinstance(entry, dict) else {})
        for key in PATH_OPTIONS:
            if key in options and self.models_dir is not None:
                options[key] = str(self.models_dir / Path(options[key]).expanduser())
        if (role, backend_name(entry)) in DEVICE_BACKENDS:
            options.setdefault("device", self.device or self.profile.get("device") or "auto")
        return options

    def requirements(self) -> list[str]:
        """What every configured backend lacks (files, devices, libraries); loads no model."""
        problems: list[str] = []
        for role, name in self.backends.items():
            try:
                cls = backend_class(role, name)
            except ImportError as exc:
                problems.append(str(exc))
                continue
            check = getattr(cls, "check_requirements", None)
            if check is not None:
                try:
                    problems += [str(p) for p in check(**self.options(role))]
                except TypeError as exc:  # an option the backend does not take
                    problems.append(f"{role} backend {name!r}: bad options: {exc}")
        return problems

    def spoken_languages(self, voice_language: str) -> tuple[str, ...]:
        """Languages (primary subtags) a catalog voice of `voice_language` speaks with this
        profile's voice backend; loads nothing."""
        cls = backend_class("voice", backend_name(self.profile["voice"]))
        return tuple(cls.spoken_languages(voice_language, **self.options("voice")))

    def _get(self, role: str, key: tuple, **kwargs: Any) -> Any:
        with self._lock:
            if (role, *key) not in self._loaded:
                options = self.options(role)
                if "device" in options and (role, backend_name(self.profile[role])) in DEVICE_BACKENDS:
                    from models.devices import resolve_device

                    options["device"] = resolve_device(options["device"])
                cls = backend_class(role, backend_name(self.profile[role]))
                self._loaded[(role, *key)] = cls(**{**options, **kwargs})
            return self._loaded[(role, *key)]

    def script_writer(self) -> ScriptWriter:
        return self._get("script", ())

    def voice(self, model_path: Path, *, voice_id: str, transform: Iterable[tuple[str, Any]] = (),
              language: str | None = None) -> VoiceBackend:
        """The catalog voice `voice_id`: the profile's backend speaking `model_path`, its
        output transformed when the catalog entry has a `transform` (models.voice.transform).
        A backend that speaks several languages (`per_job_language`) speaks the job's
        `language`; the others speak their own."""
        cls = backend_class("voice", backend_name(self.profile["voice"]))
        spoken = {"language": language} if language and getattr(cls, "per_job_language", False) \
            else {}
        source = self._get("voice", (voice_id, *spoken.values()), model_path=model_path,
                           cache_dir=self.cache_dir / "voices", **spoken)
        settings = dict(transform)
        if not settings:
            return source
        with self._lock:
            key = ("voice", voice_id, *spoken.values(), "transform")
            if key not in self._loaded:
                from models.voice.transform import TransformedVoice, VoiceTransform

                self._loaded[key] = TransformedVoice(source, VoiceTransform.from_catalog(settings))
            return self._loaded[key]

    def animator(self) -> PersonaAnimator:
        return self._get("animator", (), cache_dir=self.cache_dir / "personas")

    def cutout(self) -> CutoutBackend:
        return self._get("cutout", ())

    def music(self) -> MusicBackend:
        return self._get("music", ())

    def keyframes(self) -> KeyframeBackend:
        return self._get("keyframe", ())

    def motion(self) -> MotionBackend:
        return self._get("motion", ())

    def load_all(self, voices: Iterable[tuple] = ()) -> None:
        """Build every backend now (worker boot), with each (model_path, voice_id) or
        (model_path, voice_id, transform) voice."""
        for load in (self.script_writer, self.animator, self.cutout, self.music):
            load()
        if self.generative:
            self.keyframes()
            self.motion()
        for model_path, voice_id, *transform in voices:
            self.voice(model_path, voice_id=voice_id, transform=transform[0] if transform else ())

    def warm_up(self) -> dict[str, float]:
        """Run each loaded backend's `warm_up()` once; seconds per role (first voice only)."""
        timings: dict[str, float] = {}
        for (role, *_), backend in list(self._loaded.items()):
            warm = getattr(backend, "warm_up", None)
            if warm is None or role in timings:
                continue
            started = time.perf_counter()
            warm()
            timings[role] = time.perf_counter() - started
            log.info("%s backend %s warmed up in %.2f s", role, backend_name(self.profile[role]),
                     timings[role])
        return timings
