"""Strict loading of a diffusers pipeline from its official folder layout, and its placement.

    parts = read_model_index(Path("/models/qwen-image-edit"))   # {"vae": ("diffusers", "Autoenc…")}
    missing_parts(root, parts)                  # [] or one message per absent file, with its path
    vae = load_component(root, "vae", parts["vae"], dtype="bfloat16")   # every weight checked
    place(pipeline, RuntimeOptions(device="cuda", dtype="bfloat16", offload="model"))

The layout is the one `DiffusionPipeline.save_pretrained` writes and the hub repositories ship:
`model_index.json` naming each component's library and class, and one folder per component
(`config.json` + weights for models, `scheduler_config.json`, tokenizer files). Each model is
loaded with `output_loading_info`, and a missing, unexpected or differently shaped weight is a
`LayoutError` naming the folder and the keys, never a silently random layer. Shared by the
keyframe and motion backends, which both run diffusers pipelines.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
                 "model.safetensors", "pytorch_model.bin",
                 "diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json")
CONFIG_FILES = ("config.json", "scheduler_config.json", "tokenizer_config.json",
                "preprocessor_config.json")
OFFLOADS = ("none", "model", "sequential")
SHOWN_KEYS = 4


class LayoutError(RuntimeError):
    """A model folder that is absent, incomplete or does not match its configuration."""


@dataclass(frozen=True)
class RuntimeOptions:
    """Where and how a loaded pipeline runs.

    offload: "none" keeps every component on the device; "model" moves each whole component
    there only while it runs (diffusers' enable_model_cpu_offload, for GPUs smaller than the
    pipeline); "sequential" streams layer by layer (slowest, least memory). `compile` wraps
    the denoiser in torch.compile (the first call pays for the graph capture)."""

    device: str = "cpu"
    dtype: str = "float32"
    offload: str = "none"
    compile: bool = False

    def __post_init__(self) -> None:
        if self.offload not in OFFLOADS:
            raise ValueError(f"offload must be one of {', '.join(OFFLOADS)}, not {self.offload!r}")


def pipeline_dtype(device: str, requested: str = "auto") -> str:
    """"auto": bfloat16 on CUDA (both releases are trained in it), float32 on the CPU."""
    from models.devices import canonical_dtype, is_cuda, resolve_dtype

    if canonical_dtype(requested) == "auto":
        return "bfloat16" if is_cuda(device) else "float32"
    return resolve_dtype(device, requested)


def read_model_index(root: Path) -> dict[str, tuple[str, str]]:
    """Component name -> (library, class) of the pipeline folder `root`; LayoutError if absent."""
    path = Path(root) / "model_index.json"
    if not path.is_file():
        raise LayoutError(f"{path} is missing (not a diffusers pipeline folder)")
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise LayoutError(f"{path} is not valid JSON: {exc}") from None
    return {name: (entry[0], entry[1]) for name, entry in index.items()
            if not name.startswith("_") and isinstance(entry, list) and entry[0] is not None}


def pipeline_settings(root: Path) -> dict[str, Any]:
    """The non-component entries of model_index.json (e.g. boundary_ratio, expand_timesteps)."""
    index = json.loads((Path(root) / "model_index.json").read_text())
    return {k: v for k, v in index.items() if not k.startswith("_") and not isinstance(v, list)}


def missing_parts(root: Path, parts: dict[str, tuple[str, str]],
                  required: tuple[str, ...]) -> list[str]:
    """One message per required component whose folder, config or weights are absent."""
    problems = []
    for name in required:
        folder = Path(root) / name
        if name not in parts:
            problems.append(f"{Path(root) / 'model_index.json'} names no {name!r} component")
        elif not folder.is_dir():
            problems.append(f"{folder} is missing ({parts[name][1]})")
        elif not any((folder / f).is_file() for f in CONFIG_FILES):
            problems.append(f"{folder} has no configuration file ({', '.join(CONFIG_FILES)})")
        elif _is_model(parts[name]) and not any((folder / f).is_file() for f in MODEL_WEIGHTS):
            problems.append(f"{folder} has no weights ({MODEL_WEIGHTS[0]} or {MODEL_WEIGHTS[2]})")
    return problems


def load_component(root: Path, name: str, part: tuple[str, str], *, dtype: str) -> Any:
    """One component from its folder; models strictly, in `dtype`."""
    library, class_name = part
    cls = getattr(importlib.import_module(library), class_name)
    folder = Path(root) / name
    if not _is_model(part):
        return cls.from_pretrained(str(folder), local_files_only=True)
    import torch

    model, info = cls.from_pretrained(str(folder), torch_dtype=getattr(torch, dtype),
                                      output_loading_info=True, local_files_only=True)
    problems = loading_problems(info)
    if problems:
        raise LayoutError(f"{folder}: weights do not match {class_name} built from its "
                          f"config: {'; '.join(problems)}")
    return model.eval()


def loading_problems(info: dict[str, Any]) -> list[str]:
    """What `output_loading_info` reports as wrong: missing, unexpected or mismatched keys."""
    problems = []
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        keys = sorted(str(k) for k in info.get(kind) or ())
        if keys:
            shown = ", ".join(keys[:SHOWN_KEYS]) + (" ..." if len(keys) > SHOWN_KEYS else "")
            problems.append(f"{len(keys)} {kind.replace('_', ' ')} ({shown})")
    return problems


def place(pipeline: Any, options: RuntimeOptions) -> Any:
    """Move the pipeline to its device (or set up offloading) and compile the denoisers."""
    if options.offload == "model":
        pipeline.enable_model_cpu_offload(device=options.device)
    elif options.offload == "sequential":
        pipeline.enable_sequential_cpu_offload(device=options.device)
    else:
        pipeline.to(options.device)
    if options.compile:
        for name in ("transformer", "transformer_2"):
            module = getattr(pipeline, name, None)
            if module is None:
                continue
            # The repeated transformer block compiles once and is reused for every layer,
            # which takes a fraction of whole-model compilation (diffusers' regional compile).
            if getattr(module, "_repeated_blocks", None):
                module.compile_repeated_blocks(fullgraph=True)
            else:
                module.compile()
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _is_model(part: tuple[str, str]) -> bool:
    library, class_name = part
    if library == "diffusers":
        return not class_name.endswith("Scheduler")
    return not class_name.endswith(("Tokenizer", "TokenizerFast", "Processor", "ImageProcessor"))
