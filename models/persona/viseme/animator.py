"""The CPU persona animator: a still portrait that speaks, blinks and moves its head.

    animator = VisemeAnimator(cache_dir=Path(".cache/personas"))
    prepared = animator.prepare(persona, panel_w=1080, panel_h=1920)   # once per job
    for patch in animator.animate(prepared, speech, fps=30, frame_count=720, seed=7):
        frame[roi] = patch                      # prepared.roi, panel pixels
    punch = animator.prepare(persona, panel_w=1080, panel_h=1920, framing=Framing(zoom=1.15))
    animator.animate(punch, speech, fps=30, frame_count=90, seed=7, first_frame=240)

`prepare` analyses the photo once per persona (face mesh, matte, clean background plate;
cached per process and on disk, see `persona.analysis`), frames it as a selfie talking head
(`persona.framing`: matted person over their own blurred background, at the shot's zoom) and
precomputes the warp grids from the mesh. `animate` warps only the head region: the jaw and lower lip drop with the speech
(phoneme visemes times loudness), a dark mouth interior shows between the lips, the eyelids
blink, and the head sways slightly about the neck. The patch border always equals the panel.

When the panel is an upscale of the portrait by `REDUCE_MIN_SCALE` or more, its pixels hold
little detail a half-resolution warp would lose, so the rig is built on the panel at half size
and only the moving bands are scaled back up: about 60 % of the warp's cost. Measured against
the full-size warp over the roi: 41 dB PSNR at an upscale of 4.2 (eileen), but 32 dB and
visibly softer skin texture at 2.1 (grace), hence the threshold.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from models.base import Framing, PersonaImage, PreparedPersona, Speech
from models.persona.analysis import analyse_persona
from models.persona.face_locator import landmarks_of
from models.persona.framing import plan_framing, render_framed
from models.persona.viseme.rig import FaceRig, HeadMotionLimits, build_rig
from models.persona.viseme.track import blink_track, head_track, mouth_track
from models.persona.viseme.warp import enlarge_bands, paint_frame

REDUCE_MIN_SCALE = 3.0  # panel pixels per portrait pixel at which the warp runs at half size
REDUCE_MIN_FACE_PX = 160  # ...provided the face stays at least this wide at half size


class VisemeAnimator:
    """Warp-based talking portrait, no model weights. Cost grows with the moving head area:
    about 4 ms per 1080x1920 frame on one core for a face 40 % of the panel wide."""

    name = "viseme"
    burst_frames = 1

    def __init__(self, *, cache_dir: Path, motion: HeadMotionLimits = HeadMotionLimits(),
                 prepared_cache_size: int = 8) -> None:
        self.cache_dir = Path(cache_dir)
        self.motion = motion
        # A worker renders many jobs with the same few personas: keep their prepared panels
        # and rigs (about 8 MB each at 1080x1920) instead of redoing 0.13 s of work per job.
        self._prepared: OrderedDict[tuple, PreparedPersona] = OrderedDict()
        self._prepared_cache_size = prepared_cache_size
        self._lock = threading.Lock()

    def prepare(self, persona: PersonaImage, *, panel_w: int, panel_h: int,
                framing: Framing = Framing()) -> PreparedPersona:
        """Frame the portrait at panel size. Raises ValueError when it shows no face.

        The result is cached per persona image, panel size and framing, its arrays read-only."""
        _check_inputs(persona, panel_w, panel_h)
        key = (persona.persona_id, hashlib.blake2b(persona.image.data, digest_size=16).digest(),
               persona.image.shape, panel_w, panel_h, framing)
        with self._lock:
            if key in self._prepared:
                self._prepared.move_to_end(key)
                return self._prepared[key]
        prepared = self._prepare(persona, panel_w=panel_w, panel_h=panel_h, framing=framing)
        with self._lock:
            self._prepared[key] = prepared
            while len(self._prepared) > self._prepared_cache_size:
                self._prepared.popitem(last=False)
        return prepared

    def _prepare(self, persona: PersonaImage, *, panel_w: int, panel_h: int,
                 framing: Framing) -> PreparedPersona:
        found = analyse_persona(persona.image, persona_id=persona.persona_id,
                                cache_dir=self.cache_dir)
        layout = plan_framing(persona.image.shape, found.mesh, panel_w=panel_w, panel_h=panel_h,
                              zoom=framing.zoom, lean=found.lean)
        panel = render_framed(persona.image, layout, alpha=found.alpha, plate=found.plate)
        mesh = found.mesh.scaled(layout.scale, dx=layout.dx, dy=layout.dy)
        on_panel = landmarks_of(mesh)
        factor = 2 if (layout.scale >= REDUCE_MIN_SCALE
                       and on_panel.face.w >= 2 * REDUCE_MIN_FACE_PX) else 1
        rig = build_rig(_reduced(panel, factor), mesh.scaled(1.0 / factor), motion=self.motion)
        roi = rig.roi.scaled(factor)
        full_static = np.ascontiguousarray(panel[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w])
        for array in (panel, full_static, rig.static):
            array.setflags(write=False)
        return PreparedPersona(
            persona_id=persona.persona_id, panel=panel, roi=roi, face=on_panel.face,
            mouth=on_panel.mouth, extras={"rig": rig, "landmarks": on_panel, "mesh": mesh,
                                          "layout": layout, "reduce": factor,
                                          "full_static": full_static})

    def animate(self, prepared: PreparedPersona, voice: Speech, *, fps: int, frame_count: int,
                seed: int, first_frame: int = 0) -> Iterator[np.ndarray]:
        """Yield `frame_count` RGB patches of `prepared.roi`'s size for video frames
        `first_frame`, `first_frame + 1`, ...; a shot that starts later in the video asks for
        its own frames and gets the same mouth, blinks and sway as one long take."""
        rig = _rig_of(prepared)
        if fps <= 0 or frame_count < 0 or first_frame < 0:
            raise ValueError(f"fps must be positive, frame_count and first_frame >= 0, got "
                             f"{fps}, {frame_count}, {first_frame}")
        total = first_frame + frame_count
        mouth = mouth_track(voice, fps=fps, frame_count=total)
        blinks = blink_track(fps=fps, frame_count=total, seed=seed)
        poses = head_track(fps=fps, frame_count=total, seed=seed,
                           rotation_rad=rig.rotation_rad, shift_px=rig.shift_px)
        shot = slice(first_frame, total)
        frames = _frames(rig, mouth.openness[shot], mouth.rounding[shot], blinks[shot],
                         poses[shot])
        factor = prepared.extras["reduce"]
        if factor == 1:
            return frames
        full_static = prepared.extras["full_static"]
        return (enlarge_bands(patch, rig, full_static, factor=factor) for patch in frames)


def _reduced(panel: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return panel
    h, w = panel.shape[:2]
    return cv2.resize(panel, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


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
