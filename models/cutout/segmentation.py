"""Cut a product out of a busy photo with a semantic-segmentation model (transformers).

    cutout = SegmentationCutout(model_dir=Path("/models/segmentation"), device="auto")
    cutout.cut_out(rgb)        # Cutout(rgba=(h, w, 4) uint8, method="segmentation")

The model directory holds any checkpoint that `AutoModelForSemanticSegmentation` and
`AutoImageProcessor` load from disk without remote code (`config.json`, `model.safetensors`
or `pytorch_model.bin`, `preprocessor_config.json`): UperNet, SegFormer, DPT, MobileViT,
BEiT... Loading is strict: a checkpoint that leaves any weight randomly initialised is refused.

Which classes count as the product: `foreground_labels` (only these), or else everything but
`background_labels` (default: a label named "background", as PASCAL-VOC-style checkpoints
have). Label names are matched case- and space-insensitively against the config's `id2label`;
a name the model does not have is an error, never silently ignored.

1. Photos that already carry alpha or stand on a plain studio colour go to the classical
   cut-out first (`classical_first`, on by default): its result is exact at full resolution
   and costs milliseconds, where the model sees the photo at its own input size (often 512 px).
2. Otherwise the model's class probabilities are summed over the foreground classes (soft, not
   argmax), specks smaller than a tenth of the largest part are dropped, the map is scaled to
   full size, ramped to an alpha matte between `alpha_low` and `alpha_high` and feathered.
3. The same conventions as the classical cut-out follow: too little foreground keeps the photo
   as a card (method "none"); the result is cropped to the product with a small margin, edge
   colours are pulled in from the product, nothing is resized.

Torch and transformers are imported when a cut-out is built (`pip install 'ugen-engine[gpu]'`).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.base import Cutout

# The classical cut-out's helpers are shared, not copied: same conventions for both backends.
from models.cutout.classical import ClassicalCutout, _as_rgba, _clean, _crop_box, _pull_in_edge_colour
from models.devices import device_problems, resolve_device, resolve_dtype

GPU_EXTRA_HINT = "pip install 'ugen-engine[gpu]'"
FETCH_HINT = "python scripts/fetch_models.py --segmentation"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
CONFIG_FILES = ("config.json", "preprocessor_config.json")
WARM_UP_SIDE_PX = 64
INFERENCE_UNUSED = ("auxiliary_head.",)


@dataclass(frozen=True)
class MatteOptions:
    """Probability to alpha. Sizes in pixels of the full-size photo unless said otherwise."""

    alpha_low: float = 0.35  # foreground probability at which alpha starts to rise
    alpha_high: float = 0.65  # ... and reaches 255
    min_component_fraction: float = 0.1  # parts smaller than this share of the largest go
    feather_sigma_px: float = 0.8
    margin_fraction: float = 0.02  # crop margin as a share of the product's longer side
    min_coverage: float = 0.02  # less foreground than this: a failed cut-out, kept as a card


class SegmentationCutout:
    """The GPU profile's cut-out: classical first, a segmentation model for busy photos."""

    name = "segmentation"

    def __init__(self, *, model_dir: str | Path, device: str = "auto", dtype: str = "auto",
                 foreground_labels: list[str] | None = None,
                 background_labels: list[str] | None = None, classical_first: bool = True,
                 matte: MatteOptions | None = None) -> None:
        _require_libraries()
        self.model_dir = Path(model_dir)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(self.device, dtype)
        self.model, self.processor = load_model(self.model_dir, self.device, self.dtype)
        self.foreground_ids = foreground_ids(self.model.config.id2label, foreground_labels,
                                             background_labels)
        self.classical = ClassicalCutout() if classical_first else None
        self.matte = matte or MatteOptions()
        self.last_inference_s: float | None = None  # model time of the latest cut-out

    @classmethod
    def check_requirements(cls, *, model_dir: str | Path | None = None, device: str = "auto",
                           dtype: str = "auto", foreground_labels: list[str] | None = None,
                           background_labels: list[str] | None = None,
                           classical_first: bool = True) -> list[str]:
        """What is missing to build this backend with these options; [] when nothing."""
        missing = [f"segmentation cut-out needs {name}: run {GPU_EXTRA_HINT}"
                   for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
        missing += device_problems("segmentation cut-out", device=device, dtype=dtype)
        if model_dir is None:
            return [*missing, "segmentation cut-out: no model_dir option in the profile"]
        files = _missing_files(Path(model_dir))
        if files:
            return [*missing, (f"segmentation cut-out: {model_dir} lacks {', '.join(files)}; "
                               f"fetch it with {FETCH_HINT} (or point model_dir elsewhere)")]
        try:
            foreground_ids(_read_id2label(Path(model_dir)), foreground_labels, background_labels)
        except ValueError as exc:
            missing.append(f"segmentation cut-out: {exc}")
        return missing

    def cut_out(self, image: np.ndarray) -> Cutout:
        """Cut the product out of RGB or RGBA uint8 `image`; see the module docstring."""
        rgba = _as_rgba(image)
        if self.classical is not None:
            classical = self.classical.cut_out(rgba)
            if classical.method in ("alpha", "plain-background"):
                return classical
        alpha = matte_from_probability(self.foreground_probability(rgba[..., :3]),
                                       rgba.shape[:2], self.matte)
        return crop_to_product(rgba, alpha, self.matte)

    def foreground_probability(self, rgb: np.ndarray) -> np.ndarray:
        """(h', w') float32 in [0, 1] at the model's output size: P(pixel is product)."""
        import torch

        started = time.perf_counter()
        inputs = self.processor(images=rgb, return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            logits = self.model(pixel_values=pixels).logits[0].float()
        probability = logits.softmax(dim=0)[self.foreground_ids].sum(dim=0).clamp_(0, 1)
        result = probability.cpu().numpy()
        self.last_inference_s = time.perf_counter() - started
        return result

    def warm_up(self) -> None:
        """One small forward pass: kernels are chosen and memory reserved before a job."""
        self.foreground_probability(np.zeros((WARM_UP_SIDE_PX, WARM_UP_SIDE_PX, 3), np.uint8))


def load_model(model_dir: Path, device: str, dtype: str) -> tuple[Any, Any]:
    """(model in eval mode on `device`, image processor); every weight must come from disk."""
    import torch
    from transformers import AutoImageProcessor, AutoModelForSemanticSegmentation

    missing = _missing_files(model_dir)
    if missing:
        raise FileNotFoundError(f"segmentation model at {model_dir} lacks {', '.join(missing)}; "
                                f"fetch it with {FETCH_HINT}")
    model, info = AutoModelForSemanticSegmentation.from_pretrained(
        str(model_dir), local_files_only=True, dtype=getattr(torch, dtype),
        output_loading_info=True)
    # The auxiliary head (UperNet's training-time extra) never runs here; everything else must.
    info["missing_keys"] = [k for k in info.get("missing_keys", ())
                            if not k.startswith(INFERENCE_UNUSED)]
    problems = {k: v for k, v in info.items() if k != "unexpected_keys" and v}
    if problems:  # a partial checkpoint would cut out with random weights
        raise RuntimeError(f"segmentation model at {model_dir} does not fill the "
                           f"{type(model).__name__}: {_summary(problems)}")
    processor = AutoImageProcessor.from_pretrained(str(model_dir), local_files_only=True)
    return model.to(device).eval(), processor


def foreground_ids(id2label: dict[Any, str], foreground: list[str] | None,
                   background: list[str] | None) -> list[int]:
    """Class indices that count as the product (see the module docstring)."""
    if foreground and background:
        raise ValueError("give foreground_labels or background_labels, not both")
    names = {int(i): _norm(label) for i, label in id2label.items()}
    wanted = foreground or background or ["background"]
    unknown = [label for label in wanted if _norm(label) not in names.values()]
    if unknown:
        raise ValueError(f"the model has no label(s) {unknown}; it has "
                         f"{sorted(names.values())[:12]}{' ...' if len(names) > 12 else ''}")
    chosen = {_norm(label) for label in wanted}
    ids = sorted(i for i, name in names.items() if (name in chosen) == bool(foreground))
    if not ids:
        raise ValueError("no label is left for the product")
    return ids


def matte_from_probability(probability: np.ndarray, size: tuple[int, int],
                           options: MatteOptions) -> np.ndarray:
    """A (h, w) uint8 alpha matte at `size` from a foreground probability map of any size."""
    solid = _clean((probability >= 0.5).astype(np.uint8), options.min_component_fraction)
    # Keep the soft edge around the kept parts, drop the specks' probability entirely.
    reach = cv2.dilate(solid, np.ones((3, 3), np.uint8))
    kept = probability.astype(np.float32) * reach
    height, width = size
    full = cv2.resize(kept, (width, height), interpolation=cv2.INTER_LINEAR)
    ramp = np.clip((full - options.alpha_low) / (options.alpha_high - options.alpha_low), 0, 1)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no visible kink where the ramp ends
    alpha = cv2.GaussianBlur(ramp, (0, 0), options.feather_sigma_px)
    return np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)


def crop_to_product(rgba: np.ndarray, alpha: np.ndarray, options: MatteOptions) -> Cutout:
    """The classical cut-out's conventions: card when too little is found, else a crop."""
    if np.mean(alpha >= 128) < options.min_coverage:
        top, bottom, left, right = 0, alpha.shape[0], 0, alpha.shape[1]
        alpha, method = np.full(alpha.shape, 255, np.uint8), "none"
    else:
        top, bottom, left, right = _crop_box(alpha, options.margin_fraction)
        method = "segmentation"
    rgb, alpha = rgba[top:bottom, left:right, :3], alpha[top:bottom, left:right]
    if method == "segmentation":
        rgb = _pull_in_edge_colour(rgb, alpha)
    return Cutout(rgba=np.ascontiguousarray(np.dstack([rgb, alpha])), method=method)


def _require_libraries() -> None:
    for name in ("torch", "transformers"):
        if importlib.util.find_spec(name) is None:
            raise ImportError(f"the segmentation cut-out needs {name}: run {GPU_EXTRA_HINT}",
                              name=name)


def _missing_files(model_dir: Path) -> list[str]:
    if not model_dir.is_dir():
        return [f"the directory itself ({', '.join(CONFIG_FILES)}, {WEIGHT_FILES[0]})"]
    missing = [name for name in CONFIG_FILES if not (model_dir / name).is_file()]
    if not any((model_dir / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    return missing


def _read_id2label(model_dir: Path) -> dict[Any, str]:
    import json

    config = json.loads((model_dir / "config.json").read_text())
    return config.get("id2label") or {}


def _norm(label: str) -> str:
    return " ".join(str(label).lower().split())


def _summary(problems: dict[str, list]) -> str:
    return "; ".join(f"{len(v)} {k.replace('_', ' ')} ({', '.join(map(str, sorted(v)[:3]))}"
                     f"{' ...' if len(v) > 3 else ''})" for k, v in problems.items())
