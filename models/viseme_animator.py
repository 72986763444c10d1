"""The CPU persona animator: a still portrait that speaks, blinks and moves its head.

    animator = VisemeAnimator(cache_dir=Path(".cache/personas"))
    prepared = animator.prepare(persona, panel_w=1080, panel_h=1920)   # once per job
    for patch in animator.animate(prepared, speech, fps=30, frame_count=720, seed=7):
        frame[roi] = patch                      # prepared.roi, panel pixels

`prepare` finds the face (Haar cascades, cached per persona image), crops and upscales the
portrait to cover the panel with the face at about a third of its height, and precomputes the
warp grids. `animate` warps only the head region: the jaw and lower lip drop with the speech
(phoneme visemes times loudness), a dark mouth interior shows between the lips, the eyelids
blink, and the head sways slightly about the neck. The patch border always equals the panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from models.base import PersonaImage, PreparedPersona, Speech
from models.face_locator import locate_face
from models.face_rig import FaceRig, HeadMotionLimits, build_rig
from models.face_warp import paint_frame
from models.persona_layout import plan_layout, render_panel
from models.viseme_track import blink_track, head_track, mouth_track


class VisemeAnimator:
    """Warp-based talking portrait, no model weights. Cost grows with the moving head area:
    about 4 ms per 1080x1920 frame on one core for a face 40 % of the panel wide."""

    name = "viseme"

    def __init__(self, *, cache_dir: Path, motion: HeadMotionLimits = HeadMotionLimits()) -> None:
        self.cache_dir = Path(cache_dir)
        self.motion = motion

    def prepare(self, persona: PersonaImage, *, panel_w: int, panel_h: int) -> PreparedPersona:
        """Lay the portrait out at panel size. Raises ValueError when it shows no face."""
        _check_inputs(persona, panel_w, panel_h)
        landmarks = locate_face(persona.image, persona_id=persona.persona_id,
                                cache_dir=self.cache_dir)
        layout = plan_layout(persona.image.shape, landmarks.face, panel_w=panel_w,
                             panel_h=panel_h)
        panel = render_panel(persona.image, layout)
        on_panel = landmarks.scaled(layout.scale, dx=layout.dx, dy=layout.dy)
        rig = build_rig(panel, on_panel, motion=self.motion)
        return PreparedPersona(
            persona_id=persona.persona_id, panel=panel, roi=rig.roi, face=on_panel.face,
            mouth=on_panel.mouth, extras={"rig": rig, "landmarks": on_panel, "layout": layout})

    def animate(self, prepared: PreparedPersona, voice: Speech, *, fps: int, frame_count: int,
                seed: int) -> Iterator[np.ndarray]:
        """Yield `frame_count` RGB patches of `prepared.roi`'s size, one per video frame."""
        rig = _rig_of(prepared)
        if fps <= 0 or frame_count < 0:
            raise ValueError(f"fps must be positive and frame_count >= 0, got {fps}, {frame_count}")
        mouth = mouth_track(voice, fps=fps, frame_count=frame_count)
        blinks = blink_track(fps=fps, frame_count=frame_count, seed=seed)
        poses = head_track(fps=fps, frame_count=frame_count, seed=seed,
                           rotation_rad=rig.rotation_rad, shift_px=rig.shift_px)
        return _frames(rig, mouth.openness, mouth.rounding, blinks, poses)


def _frames(rig: FaceRig, openness: np.ndarray, rounding: np.ndarray, blinks: np.ndarray,
            poses: np.ndarray) -> Iterator[np.ndarray]:
    for i in range(len(openness)):
        yield paint_frame(rig, pose=tuple(poses[i]), openness=float(openness[i]),
                          rounding=float(rounding[i]), blink=float(blinks[i]))


def _check_inputs(persona: PersonaImage, panel_w: int, panel_h: int) -> None:
    image = persona.image
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"persona {persona.persona_id!r}: expected an (h, w, 3) uint8 RGB "
                         f"image, got {image.dtype} {image.shape}")
    if panel_w < 16 or panel_h < 16:
        raise ValueError(f"panel must be at least 16x16 pixels, got {panel_w}x{panel_h}")


def _rig_of(prepared: PreparedPersona) -> FaceRig:
    rig = prepared.extras.get("rig")
    if not isinstance(rig, FaceRig):
        raise ValueError(f"persona {prepared.persona_id!r} was not prepared by the viseme animator")
    return rig
