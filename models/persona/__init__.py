"""Persona animators: the `PersonaAnimator` protocol's backends and what they share.

    face_mesh.py       MediaPipe's 478-point face mesh (BlazeFace + mesh + irises) on LiteRT
    face_locator.py    the mesh of a portrait and its face, eye and mouth boxes (cached per persona)
    matte.py           the persona's matte: MediaPipe selfie segmentation, guided-filter edges
    backdrop.py        the photo's background with the person inpainted away, extended and blurred
    analysis.py        mesh, matte and plate once per persona (per process and on disk)
    framing.py         the selfie framing: matted persona over the blurred backdrop, per aspect and zoom
    panel_layout.py    the crop-and-cover panel layout (MuseTalk's) and the layout type both share
    speech_envelope.py gated speech loudness per frame, shared by both animators
    viseme/            VisemeAnimator: the CPU default (phoneme visemes, mesh warp, mouth interior)
    musetalk/          MuseTalkAnimator: GPU lip-sync (torch lazily)
"""

from models.persona.musetalk import MuseTalkAnimator
from models.persona.viseme import VisemeAnimator

__all__ = ["MuseTalkAnimator", "VisemeAnimator"]
