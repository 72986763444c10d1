"""Per-persona preparation: where the face crop sits in every frame, and its latents.

    prepared = prepare_persona(runner, [portrait], persona_id="grace", fps=None,
                               panel_w=1080, panel_h=1920, cache_dir=cache, model_key=key)
    state = prepared.extras["musetalk"]   # MuseTalkPersona: origins, crops, latents, mask

The portrait (or the first frame of an idle video) is laid out into the panel with the shared
`plan_layout` / `render_panel`, and its face parts come from the shared cached `locate_face`.
The crop follows MuseTalk's landmark crop: the face's width, and rows from as far above the
nose as the chin is below it down to the chin plus a small margin, so the masked lower half
starts at the nose. An idle video keeps one crop size; only its position follows the face,
smoothed over a few frames so the crop does not jitter. Latents (masked + reference) are
cached on disk per persona, panel size and model weights.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.base import Box, PreparedPersona
from models.persona.face_locator import FaceLandmarks, locate_face
from models.persona.musetalk.config import FACE_SIZE
from models.persona.panel_layout import PanelLayout, plan_layout, render_panel, zoomed

PREP_VERSION = 2  # bump when the crop geometry or the latent recipe changes
NOSE_AT = 0.55  # nose line between the eye line (0) and the mouth line (1)
CHIN_BELOW_MOUTH = 0.5  # chin below the mouth line, in eye-to-mouth distances
CHIN_MARGIN = 0.04  # extra rows under the chin (MuseTalk 1.5: 10 px of a ~250 px face)
MASK_HALF_WIDTH = 0.36  # blend ellipse half-width, share of the crop width
FEATHER = 0.05  # blend edge width, share of the crop width
SMOOTH_FRAMES = 5  # moving average of an idle video's face positions


@dataclass(frozen=True)
class MuseTalkPersona:
    """What `animate` needs per source frame (one frame for a portrait)."""

    layout: PanelLayout
    frames: tuple[np.ndarray, ...] | None  # an idle video's source frames; None for a portrait
    fps: float | None  # the idle video's frame rate
    size: tuple[int, int]  # crop (w, h) in panel pixels
    origins: np.ndarray  # (n, 2) int: crop top-left per source frame, panel pixels
    base_crops: np.ndarray  # (n, h, w, 3) uint8: each frame's original crop
    latents: Any  # (n, 8, 32, 32) torch tensor on the runner's device
    mask: np.ndarray  # (h, w) float32 feathered blend mask, 0 at the border

    def source_index(self, frame: int, fps: int) -> int:
        """The source frame shown at output `frame`: the clip plays forward, then backward."""
        count = len(self.origins)
        if count == 1 or self.fps is None:
            return 0
        step = int(frame * self.fps / fps) % (2 * count)
        return step if step < count else 2 * count - 1 - step


def prepare_persona(runner: Any, frames: list[np.ndarray], *, persona_id: str,
                    fps: float | None, panel_w: int, panel_h: int, cache_dir: Path,
                    model_key: str | None, zoom: float = 1.0) -> PreparedPersona:
    """Lay out `frames` (one portrait, or an idle clip at `fps`) and encode their crops;
    `zoom` scales the layout about the face (a punch-in above 1)."""
    marks = locate_face(frames[0], persona_id=persona_id, cache_dir=cache_dir)
    layout = zoomed(plan_layout(frames[0].shape, marks.face, panel_w=panel_w, panel_h=panel_h),
                    zoom, about=marks.face.centre)
    on_panel = marks.scaled(layout.scale, dx=layout.dx, dy=layout.dy)
    crop = crop_box(on_panel, panel_w=panel_w, panel_h=panel_h)
    origins = _origins(frames, crop, layout, persona_id=persona_id, cache_dir=cache_dir)
    panel, base_crops = _base_crops(frames, layout, origins, (crop.w, crop.h))
    key = _cache_key(frames, panel_w, panel_h, model_key, zoom)
    latents = _cached_latents(runner, base_crops, cache_dir, persona_id, key)
    state = MuseTalkPersona(layout, tuple(frames) if len(frames) > 1 else None,
                            fps if len(frames) > 1 else None, (crop.w, crop.h), origins,
                            base_crops, latents, feather_mask(on_panel, crop))
    roi = crop if len(frames) == 1 else Box(0, 0, panel_w, panel_h)
    return PreparedPersona(persona_id=persona_id, panel=panel, roi=roi, face=on_panel.face,
                           mouth=on_panel.mouth, extras={"musetalk": state})


def crop_box(marks: FaceLandmarks, *, panel_w: int, panel_h: int) -> Box:
    """MuseTalk's face crop estimated from the face, eye and mouth boxes (panel pixels)."""
    face = marks.face
    eye_y = (marks.left_eye.centre[1] + marks.right_eye.centre[1]) / 2
    mouth_y = marks.mouth.centre[1]
    span = max(mouth_y - eye_y, 0.2 * face.h)
    nose, chin = eye_y + NOSE_AT * span, mouth_y + CHIN_BELOW_MOUTH * span
    top, bottom = 2 * nose - chin, chin + CHIN_MARGIN * face.w
    box = Box(face.x, round(top), face.w, round(bottom - top))
    return _inside(box, panel_w, panel_h)


def feather_mask(marks: FaceLandmarks, crop: Box) -> np.ndarray:
    """(h, w) float32: an ellipse over mouth, chin and lower cheeks below the nose line,
    with a soft edge; exactly 0 above the crop's middle row and along its border."""
    w, h = crop.w, crop.h
    feather = max(2.0, FEATHER * w)
    top, bottom = h / 2 + feather, h - 1.5 * feather
    cx = float(np.clip(marks.mouth.centre[0] - crop.x, 0.3 * w, 0.7 * w))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (round(cx), round((top + bottom) / 2)),
                (round(MASK_HALF_WIDTH * w), max(1, round((bottom - top) / 2))),
                0, 0, 360, 1.0, thickness=-1)
    mask = cv2.GaussianBlur(mask, (0, 0), feather / 2)
    mask[mask < 1 / 512] = 0.0  # below half a grey level: keep the original pixels exactly
    mask[: h // 2] = 0.0
    mask[:, [0, -1]] = 0.0
    mask[[0, -1]] = 0.0
    return mask


def _inside(box: Box, panel_w: int, panel_h: int) -> Box:
    w, h = min(box.w, panel_w), min(box.h, panel_h)
    return Box(int(np.clip(box.x, 0, panel_w - w)), int(np.clip(box.y, 0, panel_h - h)), w, h)


def _origins(frames: list[np.ndarray], crop: Box, layout: PanelLayout, *, persona_id: str,
             cache_dir: Path) -> np.ndarray:
    """Crop top-left per frame: the first frame's crop moved with the smoothed face centre."""
    if len(frames) == 1:
        return np.array([[crop.x, crop.y]])
    centres = _face_centres(frames, persona_id=persona_id, cache_dir=cache_dir)
    kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
    padded = np.pad(centres, ((SMOOTH_FRAMES // 2,) * 2, (0, 0)), mode="edge")
    smooth = np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in (0, 1)], 1)
    shift = (smooth - smooth[0]) * layout.scale
    xs = np.clip(np.round(crop.x + shift[:, 0]), 0, layout.panel_w - crop.w)
    ys = np.clip(np.round(crop.y + shift[:, 1]), 0, layout.panel_h - crop.h)
    return np.stack([xs, ys], 1).astype(np.int64)


def _face_centres(frames: list[np.ndarray], *, persona_id: str, cache_dir: Path) -> np.ndarray:
    """(n, 2) face centres in source pixels; a frame the detector misses takes its neighbour's."""
    found: list[tuple[float, float] | None] = []
    for frame in frames:
        try:
            found.append(locate_face(frame, persona_id=persona_id, cache_dir=cache_dir).face.centre)
        except ValueError:
            found.append(None)
    hits = [i for i, c in enumerate(found) if c is not None]
    if len(hits) < len(frames) / 2:
        raise ValueError(f"persona {persona_id!r}: a face is found in only {len(hits)} of "
                         f"{len(frames)} idle-video frames")
    nearest = [min(hits, key=lambda j: abs(j - i)) for i in range(len(frames))]
    return np.array([found[j] for j in nearest], dtype=np.float64)


def _base_crops(frames: list[np.ndarray], layout: PanelLayout, origins: np.ndarray,
                size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The first panel and every frame's crop, rendering one panel at a time."""
    w, h = size
    crops, first = np.empty((len(frames), h, w, 3), np.uint8), None
    for i, frame in enumerate(frames):
        panel = render_panel(frame, layout)
        first = panel if first is None else first
        x, y = origins[i]
        crops[i] = panel[y:y + h, x:x + w]
    return first, crops


def face_input(crops: np.ndarray) -> np.ndarray:
    """Crops resized to the model's 256 x 256 (area when shrinking, Lanczos when enlarging)."""
    h, w = crops.shape[1:3]
    method = cv2.INTER_AREA if min(h, w) > FACE_SIZE else cv2.INTER_LANCZOS4
    return np.stack([cv2.resize(c, (FACE_SIZE, FACE_SIZE), interpolation=method) for c in crops])


def _cached_latents(runner: Any, base_crops: np.ndarray, cache_dir: Path, persona_id: str,
                    key: str | None) -> Any:
    import torch

    path = cache_dir / f"musetalk-{re.sub(r'[^A-Za-z0-9_.-]', '_', persona_id)[:64]}-{key}.npy" \
        if key else None
    if path is not None and path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(base_crops):
                return torch.from_numpy(cached).to(runner.device, runner.dtype)
        except (OSError, ValueError):
            pass  # a damaged entry is encoded again and overwritten
    latents = runner.encode_faces(face_input(base_crops))
    if path is not None:
        _save_atomically(path, latents.float().cpu().numpy())
    return latents


def _cache_key(frames: list[np.ndarray], panel_w: int, panel_h: int,
               model_key: str | None, zoom: float = 1.0) -> str | None:
    """Same pixels, panel, zoom and weights give the same key; None disables the disk cache."""
    if model_key is None:
        return None
    digest = hashlib.sha256(f"{PREP_VERSION}|{panel_w}x{panel_h}|{zoom:g}|{model_key}".encode())
    for frame in frames:
        digest.update(str(frame.shape).encode())
        digest.update(np.ascontiguousarray(frame).tobytes())
    return digest.hexdigest()[:24]


def _save_atomically(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".npy",
                                     delete=False) as handle:
        np.save(handle, array, allow_pickle=False)
        temp = Path(handle.name)
    os.replace(temp, path)
