"""Wan2.2 image-to-video with random weights, in the release's diffusers layout.

    write_random_layout(Path("/tmp/models/wan"), variant="ti2v-5b")        # tiny, for tests
    pipeline = random_pipeline("ti2v-5b", "full", device="cuda", dtype="bfloat16")   # timing

Built from the release's architecture (configs/models/wan2.2-<variant>.json). The tiny size
takes the scale-down of diffusers' own Wan2.2 pipeline tests (2 layers, 12-wide heads, a
3-channel VAE base, a 32-wide UMT5 encoder); the full size is every component at release
width, for timing on a GPU. The tokenizer is a T5 unigram vocabulary of single characters, so
the UMT5 embedding has 98 rows instead of 256,384 (1.05 B parameters, 2.1 GB in bf16, fewer
than the release); the encoder's layers are full size.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from models.release_configs import RELEASE_CONFIGS

CONFIGS = RELEASE_CONFIGS
VARIANTS = ("ti2v-5b", "i2v-a14b")
TINY_TRANSFORMER = {"num_attention_heads": 2, "attention_head_dim": 12, "text_dim": 32,
                    "ffn_dim": 32, "num_layers": 2, "rope_max_seq_len": 32}
TINY_VAE = {"base_dim": 3, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
TINY_TEXT = {"d_model": 32, "d_kv": 8, "d_ff": 32, "num_layers": 2, "num_heads": 4,
             "relative_attention_num_buckets": 8}


def release(variant: str) -> dict[str, Any]:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
    return json.loads((CONFIGS / f"wan2.2-{variant}.json").read_text())


def configs(variant: str, size: str) -> dict[str, Any]:
    if size not in ("tiny", "full"):
        raise ValueError(f"size must be tiny or full, not {size!r}")
    out = copy.deepcopy(release(variant))
    if size == "tiny":
        out["transformer"].update(TINY_TRANSFORMER)
        out["vae"].update(TINY_VAE)
        out["vae"].pop("decoder_base_dim", None)
        out["text_encoder"].update(TINY_TEXT)
    out["text_encoder"]["vocab_size"] = len(character_pieces())
    z_dim = out["vae"]["z_dim"]
    out["vae"].update(latents_mean=[0.0] * z_dim, latents_std=[1.0] * z_dim)
    return out


def character_pieces() -> list[tuple[str, float]]:
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -1.0)]
    return specials + [(chr(c), -2.0) for c in range(33, 127)]


def build_components(variant: str, size: str, *, device: str = "cpu", dtype: str = "float32",
                     seed: int = 0) -> dict[str, Any]:
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
    from transformers import T5TokenizerFast, UMT5Config, UMT5EncoderModel

    cfg = configs(variant, size)
    index = cfg["model_index"]
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        with torch.device(device):
            parts = {"transformer": WanTransformer3DModel(**cfg["transformer"]),
                     "vae": AutoencoderKLWan(**cfg["vae"]),
                     "text_encoder": UMT5EncoderModel(UMT5Config(**cfg["text_encoder"]))}
            if index["transformer_2"][0] is not None:
                parts["transformer_2"] = WanTransformer3DModel(**cfg["transformer"])
    finally:
        torch.set_default_dtype(previous)
    parts = {k: v.eval() for k, v in parts.items()}
    parts["tokenizer"] = T5TokenizerFast(vocab=character_pieces(), extra_ids=0)
    parts["scheduler"] = UniPCMultistepScheduler(**cfg["scheduler"])
    return parts


def random_pipeline(variant: str, size: str, *, device: str = "cpu",
                    dtype: str = "float32") -> Any:
    from diffusers import WanImageToVideoPipeline

    index = release(variant)["model_index"]
    parts = build_components(variant, size, device=device, dtype=dtype)
    return WanImageToVideoPipeline(**parts, boundary_ratio=index["boundary_ratio"],
                                   expand_timesteps=index["expand_timesteps"])


def write_random_layout(root: Path, *, variant: str = "ti2v-5b", size: str = "tiny") -> Path:
    """model_index.json and one folder per component under `root`, as the release has them."""
    root = Path(root)
    random_pipeline(variant, size).save_pretrained(str(root))
    # save_pretrained names the classes it was given (transformers 5 has one T5 tokenizer
    # class, and the TI2V release is saved by WanPipeline); the index is the release's, whose
    # names load the same classes.
    saved = json.loads((root / "model_index.json").read_text())
    index = {"_diffusers_version": saved["_diffusers_version"], **release(variant)["model_index"]}
    (root / "model_index.json").write_text(json.dumps(index, indent=2))
    return root
