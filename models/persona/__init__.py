"""Persona animators: the `PersonaAnimator` protocol's backends and what they share.

    face_locator.py    where the face, eyes and mouth are in a portrait (cached per persona)
    panel_layout.py    how a portrait fills the frame's persona panel
    speech_envelope.py gated speech loudness per frame, shared by both animators
    viseme/            VisemeAnimator: the CPU default (phoneme visemes, mesh warp, mouth interior)
    musetalk/          MuseTalkAnimator: GPU lip-sync (torch lazily)
"""

from models.persona.musetalk import MuseTalkAnimator
from models.persona.viseme import VisemeAnimator

__all__ = ["MuseTalkAnimator", "VisemeAnimator"]
