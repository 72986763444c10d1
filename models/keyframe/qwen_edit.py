"""Keyframes from Qwen-Image-Edit-2509 (diffusers' QwenImageEditPlusPipeline): the persona
holding the product, in the job's environment.

    keyframes = QwenEditKeyframes(model_dir=Path("/models/qwen-image-edit"), device="cuda")
    image = keyframes.generate(KeyframeRequest(prompt=..., references=(persona, product),
                                               width=704, height=1280, seed=7))

The release folder is loaded strictly once, in the constructor (models/diffusers_layout.py):
a missing component or weight names its path. bfloat16 on CUDA, float32 on the CPU;
`offload` ("model", "sequential") for GPUs smaller than the 20 B transformer plus the 8 B text
encoder; `compile` wraps the transformer in torch.compile. `steps` and `true_cfg_scale` are
the release's 40 and 4.0; a step-distilled schedule (e.g. 8 steps, cfg 1.0) is a profile
option. The seed drives a CPU generator, so one seed gives one image on any device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models.base import KeyframeRequest
from models.diffusers_layout import (
    LayoutError,
    RuntimeOptions,
    load_component,
    missing_parts,
    pipeline_dtype,
    place,
    read_model_index,
)

COMPONENTS = ("transformer", "vae", "text_encoder", "tokenizer", "processor", "scheduler")
LIBRARIES = ("torch", "diffusers", "transformers")
NEGATIVE = "blurry, distorted hands, extra fingers, deformed product, text, watermark"


class QwenEditKeyframes:
    name = "qwen-image-edit"

    def __init__(self, *, model_dir: str | Path | None = None, device: str = "cpu",
                 dtype: str = "auto", offload: str = "none", compile: bool = False,
                 steps: int = 40, true_cfg_scale: float = 4.0,
                 pipeline: Any = None) -> None:
        """`pipeline` skips loading (an already-built pipeline, e.g. the GPU check's)."""
        self.options = RuntimeOptions(device=device, dtype=pipeline_dtype(device, dtype),
                                      offload=offload, compile=compile)
        self.steps, self.true_cfg_scale = int(steps), float(true_cfg_scale)
        if pipeline is None:
            pipeline = load_pipeline(Path(model_dir) if model_dir else None, self.options.dtype)
        self.pipeline = place(pipeline, self.options)

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str = "auto",
                           dtype: str = "auto", offload: str = "none", compile: bool = False,
                           steps: int = 40, true_cfg_scale: float = 4.0) -> list[str]:
        import importlib.util

        from models.devices import device_problems

        problems = [f"keyframes need {name}: run pip install 'ugen-engine[generative]'"
                    for name in LIBRARIES if importlib.util.find_spec(name) is None]
        problems += device_problems("keyframes", device=device, dtype=dtype)
        return problems + layout_problems(Path(model_dir) if model_dir else None)

    @property
    def size_multiple(self) -> int:
        """Keyframe sides are multiples of this (VAE downsampling x the 2x2 patches)."""
        return self.pipeline.vae_scale_factor * 2

    def warm_up(self) -> None:
        """One small 2-step edit, so the first job does not pay for kernel selection and
        allocator growth (with `compile`, each new size still compiles once)."""
        side = self.size_multiple * 4
        image = np.zeros((side, side, 3), np.uint8)
        steps, self.steps = self.steps, 2
        try:
            self.generate(KeyframeRequest("warm-up", (image,), width=side, height=side, seed=0))
        finally:
            self.steps = steps

    def generate(self, request: KeyframeRequest) -> np.ndarray:
        """An (height, width, 3) uint8 RGB keyframe that keeps the reference images' content."""
        import torch
        from PIL import Image

        width, height = (max(self.size_multiple, v // self.size_multiple * self.size_multiple)
                         for v in (request.width, request.height))
        images = [Image.fromarray(np.ascontiguousarray(r[..., :3])) for r in request.references]
        with torch.inference_mode():
            out = self.pipeline(image=images, prompt=request.prompt, negative_prompt=NEGATIVE,
                                true_cfg_scale=self.true_cfg_scale,
                                num_inference_steps=self.steps, width=width, height=height,
                                generator=torch.Generator("cpu").manual_seed(request.seed),
                                output_type="np")
        frame = (np.clip(out.images[0], 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        if frame.shape[:2] != (request.height, request.width):
            frame = np.asarray(Image.fromarray(frame).resize((request.width, request.height),
                                                             Image.Resampling.LANCZOS))
        return frame


def layout_problems(model_dir: Path | None) -> list[str]:
    """Messages naming every absent part of the release folder; [] when it is complete."""
    if model_dir is None:
        return ["keyframes: no model_dir (the Qwen-Image-Edit-2509 folder under $UGEN_MODELS_DIR; "
                "python scripts/fetch_models.py --keyframe)"]
    try:
        parts = read_model_index(model_dir)
    except LayoutError as exc:
        return [f"keyframes: {exc}; fetch it with python scripts/fetch_models.py --generative"]
    return [f"keyframes: {p}" for p in missing_parts(model_dir, parts, COMPONENTS)]


def load_pipeline(model_dir: Path | None, dtype: str) -> Any:
    """Every component from the release folder, strictly, then the pipeline around them."""
    problems = layout_problems(model_dir)
    if problems:
        raise LayoutError("; ".join(problems))
    from diffusers import QwenImageEditPlusPipeline

    from models.keyframe.processor import ImageTextProcessor

    parts = read_model_index(model_dir)
    components = {name: load_component(model_dir, name, parts[name], dtype=dtype)
                  for name in COMPONENTS if name != "processor"}
    components["processor"] = ImageTextProcessor.from_folder(model_dir / "processor")
    return QwenImageEditPlusPipeline(**components)

