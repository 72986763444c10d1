"""The generative tier's scene: generated shots fill the frame, captions and the end card on top.

    built = build_generative_scene(spec, track, cutout, persona=entry, document=script_doc,
                                   backends=GenerativeBackends(keyframes, motion, animator),
                                   configs=Path("configs"), template=None, on_fraction=report)
    built.scene, built.patches, record.summary()

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
from models.base import Box, Cutout, KeyframeBackend, MotionBackend, PersonaAnimator
from pipelines.captions.font import font_path
from pipelines.captions.track import caption_track
from pipelines.compose.compositor import EndCard, Scene
from pipelines.compose.endcard import build_end_card, end_card_seconds
from pipelines.compose.layout import layout_for
from pipelines.contract import FPS
from pipelines.generative.clips import ClipJob, fit_frame, frame_span, shot_frames
from pipelines.generative.keyframes import Keyframes, make_keyframes
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot, plan_shots
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
                           persona: PersonaEntry, document: dict[str, Any],
                           backends: GenerativeBackends, configs: Path,
                           template: TemplateEntry | None,
                           on_fraction: Any) -> tuple[BuiltScene, GenerativeRecord]:
    width, height = spec.frame_size
    motion = backends.motion
    size = generation_size(width, height, max_side_px=getattr(motion, "max_side_px",
                                                               DEFAULT_MAX_SIDE_PX),
                           multiple=getattr(motion, "size_multiple", 32))
    card_start = track.duration_s - end_card_seconds(track.duration_s)
    shots = [s for s in plan_shots(document, track) if s.start_s < card_start + 0.35]
    record = GenerativeRecord(getattr(backends.keyframes, "name", "?"), getattr(motion, "name", "?"))
    record.shots = [{"index": s.index, "kind": s.kind, "start_s": round(s.start_s, 3),
                     "end_s": round(s.end_s, 3), "generated": s.generated} for s in shots]
    portrait = np.asarray(Image.open(persona.image_path).convert("RGB"))
    keyframes = make_keyframes(spec, shots, persona=portrait, product=cutout.rgba,
                               backend=backends.keyframes, size=size, template=template,
                               record=record, on_fraction=on_fraction)
    job = ClipJob(spec, motion, backends.animator, track.speech, (width, height), size, FPS,
                  float(getattr(motion, "max_motion_s", DEFAULT_MAX_MOTION_S)))
    captions = caption_track(spec, track, configs=configs)
    card = EndCard(build_end_card(fit_frame(keyframes.anchor, (width, height)), cutout,
                                  layout_for(width, height), cta=spec.cta_text,
                                  product_name=spec.product_name, font_path=font_path(configs)),
                   start_s=card_start)
    scene = Scene(base=np.zeros((height, width, 3), np.uint8), persona_roi=Box(0, 0, width, height),
                  layers=(), overlays=[caption_overlay(captions)] if spec.captions_enabled else (),
                  end_card=card)
    patches = _all_frames(shots, keyframes, job, record)
    return BuiltScene(scene, patches, captions, {"frame": [0, 0, width, height]}), record


def _all_frames(shots: Sequence[Shot], keyframes: Keyframes, job: ClipJob,
                record: GenerativeRecord) -> Iterator[np.ndarray]:
    """Every shot's frames in order; each shot's clip is generated when its first frame is due."""
    for shot in shots:
        frames = shot_frames(shot, keyframes, job=job, record=record)
        yield from itertools.islice(frames, len(frame_span(shot, job.fps)))
