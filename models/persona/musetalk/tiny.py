"""A tiny MuseTalk release with random weights, in the official layout, for tests and smoke runs.

    write_tiny_release(tmp_path / "musetalk", seed=0)
    animator = MuseTalkAnimator(cache_dir=cache, model_dir=tmp_path / "musetalk", device="cpu")

The files are written by the libraries' own classes (`torch.save` of the UNet state dict as the
release does, `save_pretrained` for the VAE, whisper and feature extractor), so loading them
goes through exactly the code that loads the real weights. The shapes that join the parts
stay real: 8 UNet input channels, 4 latent channels with 8x VAE downsampling, 384-d
cross-attention and whisper width, 5 whisper hidden states, 80 mel bins at 16 kHz.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.persona.musetalk.config import AUDIO_DIM, ReleaseLayout, require_libraries

TINY_UNET: dict[str, Any] = {
    "_class_name": "UNet2DConditionModel",
    "in_channels": 8, "out_channels": 4, "sample_size": 32, "cross_attention_dim": AUDIO_DIM,
    "block_out_channels": [32, 64], "layers_per_block": 1, "attention_head_dim": 8,
    "norm_num_groups": 32, "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "flip_sin_to_cos": True,
    "freq_shift": 0,
}
TINY_VAE: dict[str, Any] = {
    "block_out_channels": [4, 8, 8, 8], "layers_per_block": 1, "norm_num_groups": 4,
    "latent_channels": 4, "sample_size": 256,
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
}
TINY_WHISPER: dict[str, Any] = {
    "d_model": AUDIO_DIM, "encoder_layers": 4, "encoder_attention_heads": 2,
    "encoder_ffn_dim": 64, "decoder_layers": 1, "decoder_attention_heads": 2,
    "decoder_ffn_dim": 64, "num_mel_bins": 80, "max_source_positions": 1500,
    "max_target_positions": 16, "vocab_size": 64, "pad_token_id": 0, "bos_token_id": 1,
    "eos_token_id": 2, "decoder_start_token_id": 1,
}


def write_tiny_release(root: Path, *, seed: int = 0) -> ReleaseLayout:
    """Write random tiny weights under `root` in the release layout; returns the layout."""
    require_libraries()
    import torch

    torch.manual_seed(seed)
    layout = ReleaseLayout(Path(root))
    write_unet(layout, TINY_UNET)
    _write_vae(layout.vae_dir)
    _write_whisper(layout.whisper_dir)
    return layout


def write_unet(layout: ReleaseLayout, config: dict[str, Any]) -> Any:
    """`musetalkV15/musetalk.json` and `unet.pth` (a plain torch.save'd state dict)."""
    import torch
    from diffusers import UNet2DConditionModel

    layout.unet_config.parent.mkdir(parents=True, exist_ok=True)
    layout.unet_config.write_text(json.dumps(config, indent=2))
    unet = UNet2DConditionModel.from_config(config)
    torch.save(unet.state_dict(), layout.unet_weights)
    return unet


def _write_vae(folder: Path) -> None:
    from diffusers import AutoencoderKL

    AutoencoderKL.from_config(TINY_VAE).save_pretrained(folder)


def _write_whisper(folder: Path) -> None:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    WhisperModel(WhisperConfig(**TINY_WHISPER)).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=TINY_WHISPER["num_mel_bins"]).save_pretrained(folder)
