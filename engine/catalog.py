"""Personas, voices, templates and music tracks, read from `configs/`.

    catalog = Catalog(Path("configs"))
    persona = catalog.persona("grace")          # PersonaNotFound if unknown
    voice = catalog.voice(persona.voice_id)     # model file resolved inside its package

The same catalog backs the local render, the worker and (later) the API's list endpoints.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import (
    MusicNotFound,
    PersonaNotFound,
    TemplateNotFound,
    UGenError,
    VoiceNotFound,
)

MUSIC_SUFFIXES = (".mp3", ".wav", ".ogg", ".m4a", ".aac", ".flac")


@dataclass(frozen=True)
class PersonaEntry:
    id: str
    name: str
    image_path: Path
    voice_id: str
    description: str = ""
    attribution: str = ""


@dataclass(frozen=True)
class VoiceEntry:
    id: str
    name: str
    language: str
    backend: str
    model_path: Path
    # A speech transformation applied to the backend's output (models.voice.transform):
    # (key, value) pairs of the catalog file's `transform:` mapping; () for none.
    transform: tuple[tuple[str, Any], ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TemplateEntry:
    id: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    is_default: bool = False


class CatalogError(UGenError):
    """A catalog file itself is broken: an operator's mistake, not the job's."""

    code = "CATALOG_INVALID"


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "id" not in data:
        raise CatalogError(f"catalog file {path} is not a mapping with an id")
    return data


def _resolve_model(entry: dict[str, Any], path: Path) -> Path:
    if "package" in entry:
        spec = importlib.util.find_spec(entry["package"])
        if spec is None or not spec.submodule_search_locations:
            raise CatalogError(f"voice {entry['id']}: package {entry['package']} is not installed")
        return Path(list(spec.submodule_search_locations)[0]) / entry["model"]
    return (path.parent / entry["model"]).resolve()


class Catalog:
    def __init__(self, configs_dir: Path) -> None:
        self.root = configs_dir

    def _load(self, folder: str, build) -> dict:
        """Every `configs/<folder>/*.yaml`, built into entries and keyed by id."""
        entries = {}
        for path in sorted((self.root / folder).glob("*.yaml")):
            data = _read_yaml(path)
            entries[data["id"]] = build(data, path)
        return entries

    @functools.cached_property
    def _personas(self) -> dict[str, PersonaEntry]:
        return self._load("personas", lambda d, path: PersonaEntry(
            id=d["id"], name=d.get("name", d["id"]), image_path=path.parent / d["image"],
            voice_id=d.get("voice_id", "joe"), description=d.get("description", ""),
            attribution=d.get("attribution", "")))

    @functools.cached_property
    def _voices(self) -> dict[str, VoiceEntry]:
        return self._load("voices", lambda d, path: VoiceEntry(
            id=d["id"], name=d.get("name", d["id"]), language=d.get("language", ""),
            backend=d["backend"], model_path=_resolve_model(d, path),
            transform=tuple(sorted((d.get("transform") or {}).items())),
            description=" ".join(str(d.get("description", "")).split())))

    @functools.cached_property
    def _templates(self) -> dict[str, TemplateEntry]:
        return self._load("templates", lambda d, path: TemplateEntry(
            id=d["id"], name=d.get("name", d["id"]), config=dict(d.get("config") or {}),
            description=d.get("description", ""), is_default=bool(d.get("is_default", False))))

    def personas(self) -> list[PersonaEntry]:
        return list(self._personas.values())

    def voices(self) -> list[VoiceEntry]:
        return list(self._voices.values())

    def templates(self) -> list[TemplateEntry]:
        return list(self._templates.values())

    def persona(self, persona_id: str | None, *, key: str = "") -> PersonaEntry:
        """The named persona, or, when none is named, one chosen stably from `key` (a render
        passes the job's seed and product, so the same spec gets the same persona)."""
        if not self._personas:
            raise CatalogError(f"no personas in {self.root / 'personas'}")
        if persona_id is None:
            ids = sorted(self._personas)
            digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
            return self._personas[ids[digest % len(ids)]]
        if persona_id not in self._personas:
            raise PersonaNotFound(f"persona {persona_id!r} does not exist",
                                  details={"persona_id": persona_id,
                                           "available": sorted(self._personas)})
        return self._personas[persona_id]

    def voice(self, voice_id: str) -> VoiceEntry:
        if voice_id not in self._voices:
            raise VoiceNotFound(f"voice {voice_id!r} does not exist",
                                details={"voice_id": voice_id, "available": sorted(self._voices)})
        return self._voices[voice_id]

    def template(self, template_id: str) -> TemplateEntry:
        if template_id not in self._templates:
            raise TemplateNotFound(f"template {template_id!r} does not exist",
                                   details={"template_id": template_id,
                                            "available": sorted(self._templates)})
        return self._templates[template_id]

    def music_file(self, music_id: str) -> Path:
        """A custom track: `configs/music/<music_id>.<mp3|wav|ogg|m4a|aac|flac>`."""
        music_dir = self.root / "music"
        if "/" in music_id or "\\" in music_id or music_id.startswith("."):
            raise MusicNotFound(f"music id {music_id!r} is not a valid id",
                                details={"custom_music_id": music_id})
        for suffix in MUSIC_SUFFIXES:
            candidate = music_dir / f"{music_id}{suffix}"
            if candidate.is_file():
                return candidate
        raise MusicNotFound(f"custom music {music_id!r} does not exist",
                            details={"custom_music_id": music_id})
