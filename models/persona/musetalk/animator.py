"""The neural persona animator: MuseTalk 1.5 lip-sync on diffusers and transformers.

    animator = MuseTalkAnimator(cache_dir=Path(".cache/personas"))   # $UGEN_MODELS_DIR/musetalk
    prepared = animator.prepare(persona, panel_w=1080, panel_h=1920)  # cached per persona
    for patch in animator.animate(prepared, speech, fps=30, frame_count=720, seed=7):
        frame[roi] = patch                                           # prepared.roi

The models load once, in the constructor, strictly (a bad model directory fails here). A
portrait persona animates only its face crop; an idle-video persona (`persona.source` is a
video file, or `prepare_video`) plays its clip forward and back and yields whole panels.
Frames where the voice is silent keep the original closed-mouth pixels and cost no inference;
speaking frames are generated in full batches and stream out as each batch finishes.
Single-step inpainting has no noise, so `seed` does not change the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from models.base import Framing, PersonaImage, PreparedPersona, Speech
from models.persona.musetalk.audio import encode_speech, frame_tokens, speaking_weights
from models.persona.musetalk.config import (
    LATENT_SIZE,
    UNET_IN_CHANNELS,
    InferenceOptions,
    ReleaseError,
    ReleaseLayout,
    default_model_dir,
    require_libraries,
)
from models.persona.musetalk.infer import LipSyncRunner
from models.persona.musetalk.loader import MuseTalkModels, check_files, fingerprint, load_release
from models.persona.musetalk.prepare import MuseTalkPersona, prepare_persona
from models.persona.panel_layout import render_panel

LIBRARIES = ("torch", "diffusers", "transformers", "safetensors")
WARM_UP_CROP_PX = 64
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".avi"}
MAX_IDLE_FRAMES = 300  # 10 s at 30 fps: source frames are held in memory for the job
FLUSH_FACTOR = 4  # stream out after this many batches' worth of silent frames


class MuseTalkAnimator:
    """Lip-synced persona frames from a MuseTalk 1.5 release (GPU profile)."""

    name = "musetalk"

    def __init__(self, *, cache_dir: Path, model_dir: Path | None = None,
                 device: str | None = None, fp16: bool | None = None,
                 compile: bool | None = None, batch_size: int | None = None,
                 models: MuseTalkModels | None = None) -> None:
        """`models` skips loading (already-built models, e.g. a benchmark's random ones)."""
        require_libraries()
        self.cache_dir = Path(cache_dir)
        self.options = InferenceOptions.from_env(device=device, fp16=fp16, compile=compile,
                                                 batch_size=batch_size)
        if models is None:
            self.model_dir: Path | None = Path(model_dir) if model_dir else default_model_dir()
            models = load_release(self.model_dir)
        else:
            self.model_dir = None
        self.runner = LipSyncRunner(models, self.options)
        self._model_key = (f"{fingerprint(self.model_dir)}|{self.runner.dtype}"
                           if self.model_dir else None)

    @property
    def burst_frames(self) -> int:
        return self.runner.batch_size

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str | None = None,
                           fp16: bool | None = None, compile: bool | None = None,
                           batch_size: int | None = None) -> list[str]:
        """What is missing to build this animator with these options; [] when nothing."""
        import importlib.util

        from models.devices import device_problems

        problems = [f"musetalk lip-sync needs {name}: run pip install 'ugen-engine[gpu]'"
                    for name in LIBRARIES if importlib.util.find_spec(name) is None]
        problems += device_problems("musetalk lip-sync", device=device or "auto")
        try:
            check_files(ReleaseLayout(Path(model_dir) if model_dir else default_model_dir()))
        except ReleaseError as exc:
            problems.append(f"musetalk lip-sync: {exc}")
        return problems

    def warm_up(self) -> None:
        """One full batch through UNet, VAE decode and blend, so the first job does not pay
        for kernel selection, allocator growth or (with compile) the graph capture."""
        import torch

        runner, batch = self.runner, self.runner.batch_size
        on = {"device": runner.device}
        latents = torch.zeros(batch, UNET_IN_CHANNELS, LATENT_SIZE, LATENT_SIZE, **on)
        tokens = torch.zeros(batch, runner.pe.shape[1], runner.pe.shape[2], **on)
        base = torch.zeros(batch, WARM_UP_CROP_PX, WARM_UP_CROP_PX, 3, dtype=torch.uint8, **on)
        mask = torch.full((WARM_UP_CROP_PX, WARM_UP_CROP_PX), 0.5, **on)
        runner.render(latents, tokens, base=base, mask=mask, weights=torch.ones(batch, **on))

    def prepare(self, persona: PersonaImage, *, panel_w: int, panel_h: int,
                framing: Framing = Framing()) -> PreparedPersona:
        """Lay out a portrait, or the idle video `persona.source` names. ValueError: no face."""
        if persona.source is not None and persona.source.suffix.lower() in VIDEO_SUFFIXES:
            frames, fps = read_idle_video(persona.source)
            return self.prepare_video(persona.persona_id, frames, fps=fps, panel_w=panel_w,
                                      panel_h=panel_h, framing=framing)
        _check_frames(persona.persona_id, [persona.image], panel_w, panel_h)
        return prepare_persona(self.runner, [persona.image], persona_id=persona.persona_id,
                               fps=None, panel_w=panel_w, panel_h=panel_h,
                               cache_dir=self.cache_dir, model_key=self._model_key,
                               zoom=framing.zoom)

    def prepare_video(self, persona_id: str, frames: list[np.ndarray], *, fps: float,
                      panel_w: int, panel_h: int,
                      framing: Framing = Framing()) -> PreparedPersona:
        """Prepare an idle clip (RGB uint8 frames at `fps`); its patches are whole panels."""
        _check_frames(persona_id, frames, panel_w, panel_h)
        if fps <= 0:
            raise ValueError(f"persona {persona_id!r}: idle video frame rate must be positive")
        return prepare_persona(self.runner, list(frames), persona_id=persona_id, fps=fps,
                               panel_w=panel_w, panel_h=panel_h, cache_dir=self.cache_dir,
                               model_key=self._model_key, zoom=framing.zoom)

    def animate(self, prepared: PreparedPersona, voice: Speech, *, fps: int, frame_count: int,
                seed: int, first_frame: int = 0) -> Iterator[np.ndarray]:
        """Yield `frame_count` RGB patches of `prepared.roi`'s size for the video frames from
        `first_frame` on, one per video frame."""
        state = _state_of(prepared)
        if fps <= 0 or frame_count < 0 or first_frame < 0:
            raise ValueError(f"fps must be positive, frame_count and first_frame >= 0, got "
                             f"{fps}, {frame_count}, {first_frame}")
        weights = speaking_weights(voice, fps=fps, frame_count=first_frame + frame_count)
        steps = None
        if weights.any():  # audio features only when something is said
            models = self.runner.models
            steps = encode_speech(models.whisper, models.features, voice,
                                  device=str(self.runner.device))
        return self._frames(state, steps, weights, fps=fps, first_frame=first_frame)

    def _frames(self, state: MuseTalkPersona, steps: Any, weights: np.ndarray, *,
                fps: int, first_frame: int) -> Iterator[np.ndarray]:
        """In order; speaking frames wait until a full batch of them can run."""
        batch, pending = self.runner.batch_size, []
        for i in range(first_frame, len(weights)):
            pending.append(i)
            speaking = [j for j in pending if weights[j] > 0]
            if len(speaking) == batch or len(pending) >= FLUSH_FACTOR * batch \
                    or i == len(weights) - 1:
                made = self._render(state, speaking, steps, weights, fps) if speaking else {}
                for j in pending:
                    yield _patch(state, state.source_index(j, fps), made.get(j))
                pending = []

    def _render(self, state: MuseTalkPersona, frames: list[int], steps: Any,
                weights: np.ndarray, fps: int) -> dict[int, np.ndarray]:
        import torch

        runner = self.runner
        sources = [state.source_index(j, fps) for j in frames]
        base = torch.from_numpy(state.base_crops[sources]).to(runner.device)
        mask = torch.from_numpy(state.mask).to(runner.device)
        alpha = torch.from_numpy(weights[frames]).to(runner.device)
        tokens = frame_tokens(steps, fps=fps, frames=frames)
        crops = runner.render(state.latents[sources], tokens, base=base, mask=mask, weights=alpha)
        return dict(zip(frames, crops))


def read_idle_video(path: Path) -> tuple[list[np.ndarray], float]:
    """RGB frames and frame rate of a short idle clip (at most MAX_IDLE_FRAMES frames)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = []
        while len(frames) < MAX_IDLE_FRAMES:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames or fps <= 0:
        raise ValueError(f"idle video {path.name}: no readable frames or frame rate")
    return frames, fps


def _patch(state: MuseTalkPersona, source: int, crop: np.ndarray | None) -> np.ndarray:
    if state.frames is None:  # a portrait: the patch is the crop itself
        return crop if crop is not None else state.base_crops[0].copy()
    panel = render_panel(state.frames[source], state.layout)
    if crop is not None:
        x, y = state.origins[source]
        panel[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
    return panel


def _check_frames(persona_id: str, frames: list[np.ndarray], panel_w: int,
                  panel_h: int) -> None:
    if not frames:
        raise ValueError(f"persona {persona_id!r}: no frames")
    for image in frames[:1]:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"persona {persona_id!r}: expected (h, w, 3) uint8 RGB frames, "
                             f"got {image.dtype} {image.shape}")
    if any(f.shape != frames[0].shape for f in frames):
        raise ValueError(f"persona {persona_id!r}: idle video frames differ in size")
    if panel_w < 64 or panel_h < 64:
        raise ValueError(f"panel must be at least 64x64 pixels, got {panel_w}x{panel_h}")


def _state_of(prepared: PreparedPersona) -> MuseTalkPersona:
    state = prepared.extras.get("musetalk")
    if not isinstance(state, MuseTalkPersona):
        raise ValueError(f"persona {prepared.persona_id!r} was not prepared by the musetalk "
                         "animator")
    return state
