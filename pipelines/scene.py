"""The scene of one video, assembled once before any frame is drawn.

    scene = build_scene(prepared, layout, cutout, mode="holdable", captions=track,
                        end_card=end_card)

The base frame holds everything static (the persona panel, or on 16:9 the panel over a blurred
backdrop); per frame only the persona patch, the product and the caption state are drawn
on a copy of it.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.catalog import PersonaEntry
from engine.spec import JobSpec
from models.base import Box, Cutout, PersonaAnimator, PersonaImage, PreparedPersona, Script
from pipelines.captions.font import font_path
from pipelines.captions.track import CaptionTrack, caption_track
from pipelines.compose.compositor import EndCard, Layer, Placement, Scene, Sprite
from pipelines.compose.edit import assemble_edit
from pipelines.compose.endcard import build_end_card, end_card_seconds
from pipelines.compose.layout import Layout, layout_for
from pipelines.compose.shots import ShotScene
from pipelines.contract import FPS
from pipelines.product import holdable_layer, product_card_layer
from pipelines.voice import VoiceTrack


def _backdrop_cover(panel: np.ndarray, width: int, height: int) -> np.ndarray:
    """The panel scaled to cover the frame, blurred and dimmed, behind a side panel."""
    scale = max(width / panel.shape[1], height / panel.shape[0])
    small = cv2.resize(panel, None, fx=scale / 8, fy=scale / 8, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=4)
    big = cv2.resize(small, (round(panel.shape[1] * scale), round(panel.shape[0] * scale)),
                     interpolation=cv2.INTER_LINEAR)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return (big[y0:y0 + height, x0:x0 + width].astype(np.uint16) * 150 >> 8).astype(np.uint8)


def build_base(prepared: PreparedPersona, layout: Layout) -> np.ndarray:
    panel = prepared.panel
    if layout.panel_fills_frame:
        return panel.copy()
    base = _backdrop_cover(panel, layout.width, layout.height)
    p = layout.panel
    base[p.y:p.y + p.h, p.x:p.x + p.w] = panel
    return base


def caption_overlay(track, *, keep: int = 8) -> Layer:
    """Adapt a caption track to a compositor layer; sprites are cached per caption state."""
    sprites: OrderedDict = OrderedDict()

    def layer(t_s: float) -> Placement | None:
        state = track.layer_at(t_s)
        if state is None:
            return None
        if state.key not in sprites:
            sprites[state.key] = Sprite(state.rgba)
            while len(sprites) > keep:  # pages go by in order: old states never return
                sprites.popitem(last=False)
        return Placement(sprites[state.key], state.x, state.y)

    return layer


def build_scene(prepared: PreparedPersona, layout: Layout, cutout: Cutout, *, mode: str,
                captions=None, end_card: EndCard | None = None) -> Scene:
    base = build_base(prepared, layout)
    if mode == "display_static":
        layers = [product_card_layer(cutout, layout.card)]
    else:
        layers = [holdable_layer(cutout, layout.product, frame_h=layout.height)]
    roi = prepared.roi
    frame_roi = Box(layout.panel.x + roi.x, layout.panel.y + roi.y, roi.w, roi.h)
    overlays = [caption_overlay(captions)] if captions is not None else []
    return Scene(base=base, persona_roi=frame_roi, layers=layers, overlays=overlays,
                 end_card=end_card)


@dataclass(frozen=True)
class BuiltScene:
    scene: Scene  # the single-shot scene (what the benchmark's references draw)
    # Persona patches, one per frame until the end card covers it; with an edit, None in the
    # frames of shots that do not show the persona.
    patches: Iterator[np.ndarray | None]
    captions: CaptionTrack
    # For the report: with an edit, each shot's mouth and product boxes as on screen; without,
    # where the face, mouth and product are in the single shot.
    boxes: dict[str, list]
    edit: ShotScene | None = None  # the shot plan on screen; None when no plan was given


def _frame_box(box: Box, panel: Box) -> list[int]:
    return [panel.x + box.x, panel.y + box.y, box.w, box.h]


def build_scene_for_job(spec: JobSpec, track: VoiceTrack, cutout: Cutout, *, persona: PersonaEntry,
                        animator: PersonaAnimator, configs: Path,
                        script: Script | None = None) -> BuiltScene:
    """The job's scene; with a `script` carrying a shot plan, also its edit (`edit`)."""
    width, height = spec.frame_size
    layout = layout_for(width, height)
    image = np.asarray(Image.open(persona.image_path).convert("RGB"))
    prepared = animator.prepare(PersonaImage(persona.id, image, persona.image_path),
                                panel_w=layout.panel.w, panel_h=layout.panel.h)
    captions = caption_track(spec, track, configs=configs)
    card_start = track.duration_s - end_card_seconds(track.duration_s)
    # U-Gen ignores cta_text when custom_script is given: the card then shows the default CTA.
    cta = None if spec.custom_script else spec.cta_text
    card = EndCard(build_end_card(build_base(prepared, layout), cutout, layout, cta=cta,
                                  product_name=spec.product_name, font_path=font_path(configs)),
                   start_s=card_start)
    scene = build_scene(prepared, layout, cutout, mode=spec.interaction_mode,
                        captions=captions if spec.captions_enabled else None, end_card=card)
    animated_frames = min(track.frame_count, int((card_start + card.fade_s) * FPS) + 1)
    boxes = {name: _frame_box(box, layout.panel) for name, box in
             (("face", prepared.face), ("mouth", prepared.mouth), ("persona_roi", prepared.roi))}
    boxes["product"] = [layout.product.x, layout.product.y, layout.product.w, layout.product.h]
    boxes["card"] = [layout.card.x, layout.card.y, layout.card.w, layout.card.h]
    edit = None
    if script is not None and script.shots:
        edit = assemble_edit(
            script.shots, script.segments, track.speech.words, duration_s=track.duration_s,
            fps=FPS, stage=scene.base, prepared=prepared, layout=layout, cutout=cutout,
            mode=spec.interaction_mode, product_name=spec.product_name,
            captions=captions if spec.captions_enabled else None, end_card=card.image,
            end_card_s=card_start, font_path=font_path(configs),
            seam_y=_photo_end(prepared, image.shape, layout)).scene
        patches = shot_patches(animator, prepared, track.speech, edit.shots,
                               frame_count=track.frame_count, seed=spec.seed)
        boxes = _shot_boxes(edit.shots)
    else:
        patches = animator.animate(prepared, track.speech, fps=FPS, frame_count=animated_frames,
                                   seed=spec.seed)
    return BuiltScene(scene, patches, captions, boxes, edit)


def shot_patches(animator: PersonaAnimator, prepared: PreparedPersona, speech, shots, *,
                 frame_count: int, seed: int) -> Iterator[np.ndarray | None]:
    """One item per video frame: the persona's patch in the shots that show the persona,
    None in the others (cutaways, the end card), where the animator is not run at all. A
    shot's frames are those the edit gives it (`ShotScene.compose`: start_s <= t)."""
    starts = [placed.shot.start_s for placed in shots]
    shown = [shots[max(0, bisect.bisect_right(starts, i / FPS + 1e-9) - 1)].shot.talking
             for i in range(frame_count)]
    first = 0
    while first < frame_count:
        end = first
        while end < frame_count and shown[end] == shown[first]:
            end += 1
        if shown[first]:
            yield from animator.animate(prepared, speech, fps=FPS, frame_count=end - first,
                                        seed=seed, first_frame=first)
        else:
            yield from (None for _ in range(first, end))
        first = end


def _shot_boxes(shots) -> dict[str, list]:
    """Where the mouth and the product are in each shot of the edit, as on screen."""
    return {"shots": [{key: value for key, value in placed.as_dict().items()
                       if key in ("index", "kind", "start_s", "end_s", "mouth_box",
                                  "product_box", "product_box_end")} for placed in shots]}


def _photo_end(prepared: PreparedPersona, image_shape: tuple[int, ...],
               layout: Layout) -> int | None:
    """The frame row where the portrait ends and its extension begins, if it does."""
    panel_layout = prepared.extras.get("layout")
    if panel_layout is None or not hasattr(panel_layout, "dy"):
        return None
    bottom = round(image_shape[0] * panel_layout.scale + panel_layout.dy) + layout.panel.y
    return bottom if bottom < layout.panel.y + layout.panel.h else None
