"""The generative tier's scene: generated shots fill the frame, captions and the end card on top.

    built, record = build_generative_scene(spec, track, cutout, persona=entry, script=script,
                                           backends=GenerativeBackends(keyframes, motion, animator),
                                           configs=Path("configs"), template=None,
                                           on_fraction=report)
    built.scene, built.patches, record.summary(), record.shots   # record.shots: script.json's

Keyframes are made here (the `init` stage); the patches iterator animates, lip-syncs and
scales each shot only as the encoder asks for its frames (the `generation` stage), so one
shot's clip is in memory at a time. Shots that start after the end card fully covers the frame
are not generated at all. No product sprite is drawn: the product is in the generated picture.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.catalog import PersonaEntry, TemplateEntry
from engine.spec import JobSpec
from models.base import Box, Cutout, KeyframeBackend, MotionBackend, PersonaAnimator, Script
from pipelines.captions.font import font_path
from pipelines.captions.track import caption_track
from pipelines.compose.compositor import EndCard, Layer, Placement, Scene
from pipelines.compose.endcard import build_end_card, end_card_seconds
from pipelines.compose.layout import layout_for
from pipelines.compose.product_use import hero_image
from pipelines.compose.shot_layout import shot_boxes
from pipelines.compose.title import title_card
from pipelines.contract import FPS
from pipelines.generative.clips import ClipJob, fit_frame, frame_span, shot_frames
from pipelines.generative.keyframes import Keyframes, make_keyframes
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot, edit_shots
from pipelines.scene import BuiltScene, caption_overlay
from pipelines.voice import VoiceTrack

DEFAULT_MAX_SIDE_PX = 1280
DEFAULT_MAX_MOTION_S = 5.0


@dataclass(frozen=True)
class GenerativeBackends:
    keyframes: KeyframeBackend
    motion: MotionBackend
    animator: PersonaAnimator


def generation_size(width: int, height: int, *, max_side_px: int, multiple: int) -> tuple[int, int]:
    """The frame's aspect at most `max_side_px` on its long side, sides multiples of `multiple`."""
    scale = min(1.0, max_side_px / max(width, height))
    return tuple(max(multiple, round(v * scale / multiple) * multiple)  # type: ignore[return-value]
                 for v in (width, height))


def build_generative_scene(spec: JobSpec, track: VoiceTrack, cutout: Cutout, *,
                           persona: PersonaEntry, script: Script,
                           backends: GenerativeBackends, configs: Path,
                           template: TemplateEntry | None,
                           on_fraction: Any) -> tuple[BuiltScene, GenerativeRecord]:
    width, height = spec.frame_size
    motion = backends.motion
    size = generation_size(width, height, max_side_px=getattr(motion, "max_side_px",
                                                               DEFAULT_MAX_SIDE_PX),
                           multiple=getattr(motion, "size_multiple", 32))
    card_start = track.duration_s - end_card_seconds(track.duration_s)
    shots = [s for s in edit_shots(script, track, fps=FPS, end_card_s=card_start)
             if s.start_s < card_start + 0.35]
    record = GenerativeRecord(getattr(backends.keyframes, "name", "?"), getattr(motion, "name", "?"))
    record.shots = [s.as_dict() for s in shots]
    portrait = np.asarray(Image.open(persona.image_path).convert("RGB"))
    keyframes = make_keyframes(spec, shots, persona=portrait, product=cutout.rgba,
                               backend=backends.keyframes, size=size, template=template,
                               record=record, on_fraction=on_fraction)
    boxes = shot_boxes(width, height)
    cutaway, _ = hero_image(cutout, boxes.cutaway_product, width, height)
    job = ClipJob(spec, motion, backends.animator, track.speech, (width, height), size, FPS,
                  float(getattr(motion, "max_motion_s", DEFAULT_MAX_MOTION_S)), cutaway)
    captions = caption_track(spec, track, configs=configs)
    titles = [title_layer(s, s.title, boxes.cutaway_title if s.kind == "cutaway" else boxes.title,
                          font_path(configs)) for s in shots if s.title]
    cta = None if spec.custom_script else spec.cta_text  # as U-Gen: custom_script drops it
    card = EndCard(build_end_card(fit_frame(keyframes.anchor, (width, height)), cutout,
                                  layout_for(width, height), cta=cta,
                                  product_name=spec.product_name, font_path=font_path(configs)),
                   start_s=card_start)
    scene = Scene(base=np.zeros((height, width, 3), np.uint8), persona_roi=Box(0, 0, width, height),
                  layers=(), overlays=[*titles, *([caption_overlay(captions)]
                                                  if spec.captions_enabled else [])],
                  end_card=card)
    patches = _all_frames(shots, keyframes, job, record)
    return BuiltScene(scene, patches, captions, {"frame": [0, 0, width, height]}), record


def title_layer(shot: Shot, text: str, box: Box, font: Path) -> Layer:
    """The shot's title card at `box`, on screen while the shot is."""
    sprite = title_card(text, box, font)

    def layer(t_s: float) -> Placement | None:
        return Placement(sprite, box.x, box.y) if shot.start_s <= t_s < shot.end_s else None

    return layer


def _all_frames(shots: Sequence[Shot], keyframes: Keyframes, job: ClipJob,
                record: GenerativeRecord) -> Iterator[np.ndarray]:
    """Every shot's frames in order; each shot's clip is generated when its first frame is due."""
    for shot in shots:
        frames = shot_frames(shot, keyframes, job=job, record=record)
        yield from itertools.islice(frames, len(frame_span(shot, job.fps)))
