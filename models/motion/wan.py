"""Motion from Wan2.2 image-to-video (diffusers' WanImageToVideoPipeline): each shot's clip
animated from its keyframe.

    motion = WanMotion(model_dir=Path("/models/wan2.2-ti2v-5b"), device="cuda")
    clip = motion.animate(MotionRequest(keyframe=image, prompt=..., width=704, height=1280,
                                        duration_s=4.0, seed=7))
    clip.frames, clip.fps        # (n, 1280, 704, 3) uint8 at 24 fps

TI2V-5B (the default: one 5 B transformer, a 16x VAE, 24 fps) and I2V-A14B (two 14 B experts
switched at the release's boundary_ratio, 16 fps) are both this pipeline; which one runs is
read from the folder's model_index.json. Loaded strictly once, in the constructor. bfloat16 on
CUDA, float32 on the CPU; `offload` and `compile` as for the keyframes. Frame counts are
4k + 1 (the VAE's temporal compression), at least the requested duration. `steps` and
`guidance_scale` default to the release's; a step-distilled schedule is a profile option.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from models.base import MotionClip, MotionRequest
from models.diffusers_layout import (
    LayoutError,
    RuntimeOptions,
    load_component,
    missing_parts,
    pipeline_dtype,
    pipeline_settings,
    place,
    read_model_index,
)

COMPONENTS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
LIBRARIES = ("torch", "diffusers", "transformers", "ftfy")
NEGATIVE = ("static, frozen, blurry, distorted hands, extra fingers, deformed face, "
            "flicker, text, watermark")


class WanMotion:
    name = "wan"

    def __init__(self, *, model_dir: str | Path | None = None, device: str = "cpu",
                 dtype: str = "auto", offload: str = "none", compile: bool = False,
                 steps: int = 40, guidance_scale: float = 5.0, fps: float | None = None,
                 max_side_px: int = 1280, max_motion_s: float = 5.0,
                 pipeline: Any = None) -> None:
        """`fps` is the model's frame rate: 24 for TI2V-5B, 16 for the A14B experts (read from
        the pipeline when not given). Clips are generated at most `max_side_px` on the long
        side (the render scales them to the output) and at most `max_motion_s` long (longer
        shots replay the clip). `pipeline` skips loading (the GPU check's)."""
        self.max_side_px, self.max_motion_s = int(max_side_px), float(max_motion_s)
        self.options = RuntimeOptions(device=device, dtype=pipeline_dtype(device, dtype),
                                      offload=offload, compile=compile)
        self.steps, self.guidance_scale = int(steps), float(guidance_scale)
        if pipeline is None:
            pipeline = load_pipeline(Path(model_dir) if model_dir else None, self.options.dtype)
        self.pipeline = place(pipeline, self.options)
        self.fps = float(fps or (24 if pipeline.config.expand_timesteps else 16))

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str = "auto",
                           dtype: str = "auto", offload: str = "none", compile: bool = False,
                           steps: int = 40, guidance_scale: float = 5.0,
                           fps: float | None = None, max_side_px: int = 1280,
                           max_motion_s: float = 5.0) -> list[str]:
        import importlib.util

        from models.devices import device_problems

        problems = [f"motion needs {name}: run pip install 'ugen-engine[generative]'"
                    for name in LIBRARIES if importlib.util.find_spec(name) is None]
        problems += device_problems("motion", device=device, dtype=dtype)
        return problems + layout_problems(Path(model_dir) if model_dir else None)

    @property
    def size_multiple(self) -> int:
        pipe = self.pipeline
        return pipe.vae_scale_factor_spatial * pipe.transformer.config.patch_size[1]

    def frame_count(self, duration_s: float) -> int:
        """The fewest 4k + 1 frames that last at least `duration_s` at the model's rate."""
        step = self.pipeline.vae_scale_factor_temporal
        return step * max(1, math.ceil((duration_s * self.fps - 1) / step)) + 1

    def warm_up(self) -> None:
        """One small 2-step clip of 5 frames, so the first job does not pay for kernel
        selection and allocator growth."""
        side = self.size_multiple * 2
        image = np.zeros((side, side, 3), np.uint8)
        steps, self.steps = self.steps, 2
        try:
            self.animate(MotionRequest(image, "warm-up", width=side, height=side,
                                       duration_s=4 / self.fps, seed=0))
        finally:
            self.steps = steps

    def animate(self, request: MotionRequest) -> MotionClip:
        import torch
        from PIL import Image

        m = self.size_multiple
        width, height = (max(m, v // m * m) for v in (request.width, request.height))
        image = Image.fromarray(np.ascontiguousarray(request.keyframe[..., :3]))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
        with torch.inference_mode():
            out = self.pipeline(image=image, prompt=request.prompt, negative_prompt=NEGATIVE,
                                height=height, width=width,
                                num_frames=self.frame_count(request.duration_s),
                                num_inference_steps=self.steps,
                                guidance_scale=self.guidance_scale,
                                generator=torch.Generator("cpu").manual_seed(request.seed),
                                output_type="np")
        frames = (np.clip(out.frames[0], 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        return MotionClip(frames, self.fps)


def layout_problems(model_dir: Path | None) -> list[str]:
    if model_dir is None:
        return ["motion: no model_dir (the Wan2.2 folder under $UGEN_MODELS_DIR; "
                "python scripts/fetch_models.py --motion)"]
    try:
        parts = read_model_index(model_dir)
    except LayoutError as exc:
        return [f"motion: {exc}; fetch it with python scripts/fetch_models.py --generative "
                "(--motion-a14b for the A14B experts)"]
    required = COMPONENTS + (("transformer_2",) if "transformer_2" in parts else ())
    return [f"motion: {p}" for p in missing_parts(model_dir, parts, required)]


def load_pipeline(model_dir: Path | None, dtype: str) -> Any:
    problems = layout_problems(model_dir)
    if problems:
        raise LayoutError("; ".join(problems))
    from diffusers import WanImageToVideoPipeline

    parts = read_model_index(model_dir)
    components = {name: load_component(model_dir, name, part, dtype=dtype)
                  for name, part in parts.items()}
    settings = pipeline_settings(model_dir)
    return WanImageToVideoPipeline(**components, **{k: settings[k] for k in (
        "boundary_ratio", "expand_timesteps") if k in settings})
