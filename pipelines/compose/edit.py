"""The job's edit assembled: the persona's stage and camera, the product in use, the shots.

    edit = assemble_edit(script.shots, script.segments, speech.words, duration_s=24.0, fps=30,
                         stage=base, prepared=prepared, layout=layout, cutout=cutout,
                         mode="holdable", product_name="Glow Serum", captions=track_or_none,
                         end_card=card_image, end_card_s=21.6, font_path=font)
    edit.scene.compose(t_s, patch)      # one frame
    edit.scene.shots                    # RenderedShot list for script.json and the storyboard

`persona_camera` is the one place a shot gets its persona picture from: today the persona
panel laid out at zoom 1 (on 16:9 over its blurred backdrop); a framing of the persona made
elsewhere slots in by building the camera from its own stage, roi, face and mouth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base import Box, Cutout, PreparedPersona, ScriptSegment, WordTiming
from models.script.shots import PlannedShot, timeline
from pipelines.compose.camera import ZOOMS, PersonaCamera
from pipelines.compose.layout import Layout, fit_inside
from pipelines.compose.product_use import HeldProduct, product_rgba, with_standing_product
from pipelines.compose.shot_layout import held_product_box, shape_of
from pipelines.compose.shots import Extras, ShotScene


@dataclass(frozen=True)
class Edit:
    scene: ShotScene
    camera: PersonaCamera


def persona_camera(stage: np.ndarray, prepared: PreparedPersona, panel: Box) -> PersonaCamera:
    """The persona's camera over `stage` (the frame at zoom 1, persona panel at `panel`)."""
    def on_frame(box: Box) -> Box:
        return Box(panel.x + box.x, panel.y + box.y, box.w, box.h)

    return PersonaCamera(stage, roi=on_frame(prepared.roi), face=on_frame(prepared.face),
                         mouth=on_frame(prepared.mouth))


def assemble_edit(plan: Sequence[PlannedShot], segments: Sequence[ScriptSegment], words:
                  Sequence[WordTiming], *, duration_s: float, fps: int, stage: np.ndarray,
                  prepared: PreparedPersona, layout: Layout, cutout: Cutout, mode: str,
                  product_name: str, captions, end_card: np.ndarray, end_card_s: float,
                  font_path: Path, seam_y: int | None = None) -> Edit:
    """The edit of one video; `seam_y` is the frame row where the persona's photo ends (its
    extension below is no place for captions), None when the photo fills the frame."""
    camera = plain = persona_camera(stage, prepared, layout.panel)
    held = standing = None
    if mode == "display_static":
        box = standing_box(camera.face, layout.width, layout.height)
        standing = _fitted(cutout, box)
        camera = _with_foreground(camera, with_standing_product(stage, cutout, box))
    else:
        box = held_product_box(camera.face, width=layout.width, height=layout.height,
                               zoom=ZOOMS["closeup"])
        held = HeldProduct(cutout, box, lifts=name_spans(words, product_name),
                           frame_h=layout.height)
    cut = timeline(plan, segments, words, duration_s=duration_s, fps=fps, end_card_s=end_card_s)
    extras = Extras(end_card, _end_keep_out(cutout, layout), _seams_x(layout), seam_y, standing,
                    split_camera=plain)
    scene = ShotScene(cut, camera=camera, held=held, hero=cutout, extras=extras,
                      captions=captions, font_path=font_path, width=layout.width,
                      height=layout.height)
    return Edit(scene, camera)


def standing_box(face: Box, width: int, height: int) -> Box:
    """display_static: the product standing in the lower third, at the persona's side, its
    base high enough to stay in the frame in a close-up."""
    shape = shape_of(width, height)
    size = round({"portrait": 0.34, "square": 0.30, "landscape": 0.26}[shape] * min(width, height))
    right = face.centre[0] <= width / 2  # the side of the frame with more room
    centre = face.centre[0] + (1.0 if right else -1.0) * max(face.w, size * 0.75)
    x = round(min(max(centre - size / 2, 0.04 * width), 0.96 * width - size))
    fy = face.centre[1]  # its base stays in the frame in a close-up too
    bottom = min(0.97 * height, fy + (0.97 * height - fy) / ZOOMS["closeup"])
    return Box(x, round(bottom) - size, size, size)


def _with_foreground(camera: PersonaCamera, stage: np.ndarray) -> PersonaCamera:
    """A camera over a stage with things in front of the persona: what changed from the
    plain stage is kept in front of the animated patch too."""
    changed = np.any(stage != camera.stage, axis=2)
    fresh = PersonaCamera(stage, roi=camera.roi, face=camera.face, mouth=camera.mouth)
    fresh.set_foreground(changed)
    return fresh


def name_spans(words: Sequence[WordTiming], name: str) -> list[tuple[float, float]]:
    """(start, end) of every time the product's name is said, for the held product's lift."""
    wanted = [_norm(w) for w in name.split() if _norm(w)]
    said = [_norm(w.text) for w in words]
    spans = []
    for i in range(len(said) - len(wanted) + 1):
        if wanted and said[i:i + len(wanted)] == wanted:
            spans.append((words[i].start_s, words[i + len(wanted) - 1].end_s))
    return spans


def _norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def _fitted(cutout: Cutout, box: Box) -> Box:
    rgba = product_rgba(cutout)
    return fit_inside(rgba.shape[1], rgba.shape[0], box)


def _end_keep_out(cutout: Cutout, layout: Layout) -> tuple[Box, ...]:
    return (_fitted(cutout, layout.end_product), layout.end_text)


def _seams_x(layout: Layout) -> tuple[int, ...]:
    """The persona panel's edges inside the frame (16:9)."""
    p = layout.panel
    return tuple(x for x in (p.x, p.x + p.w) if 0 < x < layout.width)
