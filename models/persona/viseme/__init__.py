"""The CPU persona animator: visemes from the voice's phonemes drive a warp of the portrait.

    animator.py        VisemeAnimator (the PersonaAnimator protocol)
    track.py           per-frame mouth, blink and head signals
    geometry.py        mouth and eye shapes measured on the portrait
    rig.py             the warp rig built once per persona
    warp.py            per-frame painting of the warped bands
    mouth_interior.py  the dark cavity and teeth drawn inside an open mouth
"""

from models.persona.viseme.animator import VisemeAnimator

__all__ = ["VisemeAnimator"]
