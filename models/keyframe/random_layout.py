"""Qwen-Image-Edit-2509 with random weights, in the release's diffusers layout.

    write_random_layout(Path("/tmp/models/qwen-image-edit"))   # tiny, for tests (a few MB)
    pipeline = random_pipeline("full", device="cuda", dtype="bfloat16")   # real size, in memory

Both start from the release's architecture (configs/models/qwen-image-edit-2509.json). The
tiny size scales it down the way diffusers' own pipeline tests do (2 layers, 16-wide text
encoder, a 4-channel VAE), with one more VAE downsampling step so a CPU test does not pay for
16k-token reference images. The real size builds every component at full width on the GPU
(20.4 B transformer, 7.2 B text encoder), for timing: speed does not depend on the weights'
values. The tokenizer is a byte-level BPE without merges carrying Qwen's special tokens, so
the text encoder's embedding and head are 264 rows instead of 152,064 (1.1 B parameters, 2.2 GB
in bf16, fewer than the release) and prompts are a few times longer in tokens.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from models.release_configs import RELEASE_CONFIGS

RELEASE = RELEASE_CONFIGS / "qwen-image-edit-2509.json"
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")
TINY = {
    "transformer": {"in_channels": 16, "out_channels": 4, "num_layers": 2,
                    "attention_head_dim": 16, "num_attention_heads": 3,
                    "joint_attention_dim": 16, "axes_dims_rope": [8, 4, 4]},
    "vae": {"base_dim": 8, "z_dim": 4, "dim_mult": [1, 1, 1, 1, 1], "num_res_blocks": 1,
            "temperal_downsample": [False, True, True, True]},
    "text_config": {"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2,
                    "num_attention_heads": 2, "num_key_value_heads": 2,
                    "rope_scaling": {"type": "mrope", "rope_type": "default",
                                     "mrope_section": [1, 1, 2]}},
    "vision_config": {"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2,
                      "out_hidden_size": 16, "fullatt_block_indexes": [1]},
}


def release() -> dict[str, Any]:
    return json.loads(RELEASE.read_text())


def configs(size: str) -> dict[str, Any]:
    """Per-component configs at `size` ("tiny" or "full"), token ids set to the tokenizer's."""
    if size not in ("tiny", "full"):
        raise ValueError(f"size must be tiny or full, not {size!r}")
    out = copy.deepcopy(release())
    vocab = byte_vocabulary()
    text = out["text_encoder"]
    text.update(vocab_size=len(vocab), **{f"{name}_token_id": vocab[f"<|{name}|>"] for name in (
        "vision_start", "vision_end")}, image_token_id=vocab["<|image_pad|>"],
        video_token_id=vocab["<|video_pad|>"], bos_token_id=vocab["<|endoftext|>"],
        eos_token_id=vocab["<|im_end|>"])
    text["text_config"].update(vocab_size=len(vocab), bos_token_id=text["bos_token_id"],
                               eos_token_id=text["eos_token_id"])
    if size == "tiny":
        out["transformer"].update(TINY["transformer"])
        out["vae"].update(TINY["vae"])
        text["text_config"].update(TINY["text_config"])
        text["vision_config"].update(TINY["vision_config"])
        text["hidden_size"] = TINY["text_config"]["hidden_size"]
    z_dim = out["vae"]["z_dim"]
    out["vae"].update(latents_mean=[0.0] * z_dim, latents_std=[1.0] * z_dim)
    return out


def byte_vocabulary() -> dict[str, int]:
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {c: i for i, c in enumerate(sorted(ByteLevel.alphabet()))}
    for token in SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    return vocab


def build_components(size: str, *, device: str = "cpu", dtype: str = "float32",
                     seed: int = 0) -> dict[str, Any]:
    """Every component of the pipeline, randomly initialised, on `device` in `dtype`."""
    import torch
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from models.keyframe.processor import ImageTextProcessor

    cfg = configs(size)
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))  # a 20 B model is never built in fp32
    try:
        with torch.device(device):
            transformer = QwenImageTransformer2DModel(**cfg["transformer"])
            vae = AutoencoderKLQwenImage(**cfg["vae"])
            text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**cfg["text_encoder"]))
    finally:
        torch.set_default_dtype(previous)
    tokenizer = byte_tokenizer()
    return {"transformer": transformer.eval(), "vae": vae.eval(),
            "text_encoder": text_encoder.eval(), "tokenizer": tokenizer,
            "processor": ImageTextProcessor(image_processor(cfg), byte_tokenizer()),
            "scheduler": FlowMatchEulerDiscreteScheduler(**cfg["scheduler"])}


def byte_tokenizer() -> Any:
    from transformers import Qwen2Tokenizer

    tokenizer = Qwen2Tokenizer(vocab=byte_vocabulary(), merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS[1:])})
    return tokenizer


def image_processor(cfg: dict[str, Any]) -> Any:
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    p = cfg["image_processor"]
    return Qwen2VLImageProcessorPil(patch_size=p["patch_size"], merge_size=p["merge_size"],
                                    temporal_patch_size=p["temporal_patch_size"],
                                    min_pixels=p["min_pixels"], max_pixels=p["max_pixels"])


def random_pipeline(size: str, *, device: str = "cpu", dtype: str = "float32") -> Any:
    from diffusers import QwenImageEditPlusPipeline

    return QwenImageEditPlusPipeline(**build_components(size, device=device, dtype=dtype))


def write_random_layout(root: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """model_index.json and one folder per component under `root`, as the release has them."""
    root = Path(root)
    parts = build_components(size, seed=seed)
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        parts[name].save_pretrained(str(root / name))
    parts["processor"].tokenizer.save_pretrained(str(root / "processor"))
    parts["processor"].image_processor.save_pretrained(str(root / "processor"))
    index = {"_class_name": release()["model_index"]["_class_name"],
             **{k: v for k, v in release()["model_index"].items() if not k.startswith("_")}}
    (root / "model_index.json").write_text(json.dumps(index, indent=2))
    return root
