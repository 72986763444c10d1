"""The `init` stage of the generative tier: the anchor keyframe, then one keyframe per shot.

    keyframes = make_keyframes(spec, shots, persona=portrait, product=cutout.rgba,
                               backend=registry.keyframes(), size=(704, 1280), template=None,
                               record=record, on_fraction=report)
    keyframes.anchor, keyframes.for_shot(shots[2])

The anchor is made from the persona's portrait and the product cut-out (on a plain light
background, as a product photo); it is the first generated shot's keyframe. Every other
generated shot's keyframe is an edit of the anchor alone, so the face, clothes, light and room
stay the same. Held shots (cutaways, the end card) reuse the anchor. Seeds follow the job's:
the anchor uses `spec.seed`, shot i uses `spec.seed + i`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.catalog import TemplateEntry
from engine.spec import JobSpec
from models.base import KeyframeBackend, KeyframeRequest
from pipelines.generative.prompts import anchor_prompt, shot_prompt
from pipelines.generative.record import GenerativeRecord
from pipelines.generative.shots import Shot

PRODUCT_BACKDROP = 240  # light grey behind the product reference


@dataclass
class Keyframes:
    anchor: np.ndarray
    by_shot: dict[int, np.ndarray] = field(default_factory=dict)

    def for_shot(self, shot: Shot) -> np.ndarray:
        return self.by_shot.get(shot.index, self.anchor)


def make_keyframes(spec: JobSpec, shots: Sequence[Shot], *, persona: np.ndarray,
                   product: np.ndarray, backend: KeyframeBackend, size: tuple[int, int],
                   template: TemplateEntry | None, record: GenerativeRecord,
                   on_fraction: Callable[[float], None]) -> Keyframes:
    generated = [s for s in shots if s.generated]
    total = max(1, len(generated))
    request = KeyframeRequest(anchor_prompt(spec, template), (persona, on_backdrop(product)),
                              width=size[0], height=size[1], seed=spec.seed)
    anchor = _timed(backend, request, record, shot=generated[0].index if generated else None)
    keyframes = Keyframes(anchor)
    on_fraction(1 / total)
    for done, shot in enumerate(generated[1:], start=2):
        request = KeyframeRequest(shot_prompt(spec, shot), (anchor,), width=size[0],
                                  height=size[1], seed=spec.seed + shot.index)
        keyframes.by_shot[shot.index] = _timed(backend, request, record, shot=shot.index)
        on_fraction(done / total)
    if generated:
        keyframes.by_shot[generated[0].index] = anchor
    return keyframes


def on_backdrop(rgba: np.ndarray) -> np.ndarray:
    """An RGBA cut-out flattened onto a plain light background (RGB uint8)."""
    if rgba.shape[2] == 3:
        return rgba
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + PRODUCT_BACKDROP * (1.0 - alpha)
    return (rgb + 0.5).astype(np.uint8)


def _timed(backend: KeyframeBackend, request: KeyframeRequest, record: GenerativeRecord, *,
           shot: int | None) -> np.ndarray:
    started = time.perf_counter()
    image = backend.generate(request)
    record.keyframes.append({"shot": shot, "references": len(request.references),
                             "width": int(image.shape[1]), "height": int(image.shape[0]),
                             "seed": request.seed,
                             "wall_s": round(time.perf_counter() - started, 3)})
    return image
