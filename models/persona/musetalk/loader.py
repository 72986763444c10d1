"""Load the MuseTalk 1.5 release into diffusers and transformers classes, strictly.

    models = load_release(Path("/models/musetalk"))     # CPU, fp32, eval mode
    models.unet, models.vae, models.whisper, models.features

Each network is built from its config on the meta device (no time spent on random init), then
its checkpoint is assigned with every key checked: a missing, unexpected or differently shaped
key is a `ReleaseError` that names the file and the keys, never a silent partial load. The
checks between parts (8 UNet input channels = two VAE latents, 384-d cross-attention = the
whisper width, 16 kHz 30 s mel windows) run at load time too, so a bad model directory fails
when the worker starts, not in the middle of a job.

The whisper checkpoint's decoder is not used and its weights are skipped on purpose; every
encoder weight is required.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.persona.musetalk.config import (
    AUDIO_DIM,
    AUDIO_RATE,
    AUDIO_STEPS_PER_S,
    LATENT_CHANNELS,
    UNET_IN_CHANNELS,
    ReleaseError,
    ReleaseLayout,
    require_libraries,
)

if TYPE_CHECKING:
    import torch

VAE_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
WHISPER_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
WHISPER_PREFIXES = ("model.encoder.", "encoder.")  # WhisperForConditionalGeneration, WhisperModel
SHOWN_KEYS = 4  # keys quoted per problem in an error message


@dataclass
class MuseTalkModels:
    """The four parts of the recipe, as library objects."""

    unet: Any  # diffusers UNet2DConditionModel
    vae: Any  # diffusers AutoencoderKL
    whisper: Any  # transformers WhisperEncoder
    features: Any  # transformers WhisperFeatureExtractor


def load_release(model_dir: Path) -> MuseTalkModels:
    """All models of the release under `model_dir`, on the CPU in fp32 and eval mode."""
    require_libraries()
    layout = ReleaseLayout(Path(model_dir))
    check_files(layout)
    unet = load_unet(layout.unet_config, layout.unet_weights)
    vae = load_vae(layout.vae_dir)
    whisper, features = load_whisper(layout.whisper_dir)
    models = MuseTalkModels(unet, vae, whisper, features)
    check_compatible(models, source=layout.root)
    return models


def read_unet_config(path: Path) -> dict[str, Any]:
    """The UNet config, with the recipe's fixed values checked."""
    config = _read_json(path)
    expected = {"in_channels": UNET_IN_CHANNELS, "out_channels": LATENT_CHANNELS,
                "cross_attention_dim": AUDIO_DIM}
    wrong = {k: config.get(k) for k, v in expected.items() if config.get(k) != v}
    if wrong:
        raise ReleaseError(f"{path}: not a MuseTalk UNet config, expected {expected}, found "
                           f"{wrong}")
    return config


def build_unet(config: dict[str, Any], *, device: str = "meta") -> Any:
    """A UNet2DConditionModel from `config`; on "meta" it has shapes but no memory."""
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device(device):
        return UNet2DConditionModel.from_config(config)


def load_unet(config_path: Path, weights_path: Path) -> Any:
    unet = build_unet(read_unet_config(config_path))
    load_strictly(unet, read_state_dict(weights_path), what="UNet built from "
                  f"{config_path.name}", source=weights_path)
    return unet.eval()


def load_vae(vae_dir: Path) -> Any:
    import torch
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL.from_config(_read_json(vae_dir / "config.json"))
    weights = _first_existing(vae_dir, VAE_WEIGHTS)
    load_strictly(vae, read_state_dict(weights), what="AutoencoderKL built from config.json",
                  source=weights)
    return vae.eval()


def load_whisper(whisper_dir: Path) -> tuple[Any, Any]:
    """The whisper encoder (decoder weights skipped) and its feature extractor."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig.from_pretrained(str(whisper_dir), local_files_only=True)
    with torch.device("meta"):
        encoder = WhisperEncoder(config)
    weights = _first_existing(whisper_dir, WHISPER_WEIGHTS)
    load_strictly(encoder, _encoder_weights(read_state_dict(weights), weights),
                  what="whisper encoder built from config.json", source=weights)
    features = WhisperFeatureExtractor.from_pretrained(str(whisper_dir), local_files_only=True)
    return encoder.eval(), features


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors, .pth or .bin file (pickles load with weights_only)."""
    import torch
    from safetensors.torch import load_file

    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path))
        else:
            state = _torch_load(path)
    except (OSError, RuntimeError, ValueError) as exc:  # torn or foreign files
        raise ReleaseError(f"{path}: cannot read the checkpoint ({exc})") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise ReleaseError(f"{path}: expected a flat state dict of tensors")
    return state


def _torch_load(path: Path) -> Any:
    """Memory-mapped where the file's format allows it (the zip format of torch >= 1.6)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:
        return torch.load(path, map_location="cpu", weights_only=True)


def load_strictly(module: Any, state: dict[str, torch.Tensor], *, what: str,
                  source: Path) -> None:
    """Assign `state` to `module` only when keys and shapes match exactly."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    problems = [
        _listed("missing key", sorted(expected.keys() - found.keys())),
        _listed("unexpected key", sorted(found.keys() - expected.keys())),
        _listed("shape mismatch", [f"{k}: file {found[k]}, model {expected[k]}"
                                   for k in sorted(expected.keys() & found.keys())
                                   if found[k] != expected[k]]),
    ]
    problems = [p for p in problems if p]
    if problems:
        raise ReleaseError(f"{source} does not match the {what}: {'; '.join(problems)}")
    module.load_state_dict(state, strict=True, assign=True)
    left = [name for name, t in (*module.named_parameters(), *module.named_buffers())
            if t.is_meta]
    if left:
        raise ReleaseError(f"{source}: the {what} has tensors no checkpoint fills: {left[:4]}")


def check_compatible(models: MuseTalkModels, *, source: Path | str) -> None:
    """The parts fit together the way the recipe chains them."""
    unet, vae = models.unet.config, models.vae.config
    whisper, features = models.whisper.config, models.features
    checks = [
        (vae.latent_channels == LATENT_CHANNELS, f"VAE latent channels {vae.latent_channels}"),
        (len(vae.block_out_channels) == 4, "VAE downsampling is not 8x"),
        (whisper.d_model == unet.cross_attention_dim,
         f"whisper width {whisper.d_model} != UNet cross-attention {unet.cross_attention_dim}"),
        (features.sampling_rate == AUDIO_RATE, f"feature rate {features.sampling_rate} Hz"),
        (features.feature_size == whisper.num_mel_bins,
         f"{features.feature_size} mel bins for a {whisper.num_mel_bins}-bin encoder"),
        (features.nb_max_frames == 2 * whisper.max_source_positions
         and features.n_samples * AUDIO_STEPS_PER_S == AUDIO_RATE * whisper.max_source_positions,
         "whisper window is not 30 s at 50 steps per second"),
    ]
    wrong = [message for ok, message in checks if not ok]
    if wrong:
        raise ReleaseError(f"MuseTalk release at {source} does not fit together: "
                           + "; ".join(wrong))


def fingerprint(model_dir: Path) -> str:
    """Changes whenever a weight file of the release is replaced (size and mtime)."""
    layout = ReleaseLayout(Path(model_dir))
    files = [layout.unet_weights, *(layout.vae_dir / n for n in VAE_WEIGHTS),
             *(layout.whisper_dir / n for n in WHISPER_WEIGHTS)]
    stats = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files if p.is_file()]
    return ",".join(stats)


def check_files(layout: ReleaseLayout) -> None:
    """ReleaseError naming every missing file of the release (no file is read)."""
    required = [layout.unet_config, layout.unet_weights, layout.vae_dir / "config.json",
                layout.whisper_dir / "config.json",
                layout.whisper_dir / "preprocessor_config.json"]
    missing = [str(p.relative_to(layout.root)) for p in required if not p.is_file()]
    for folder, names in ((layout.vae_dir, VAE_WEIGHTS), (layout.whisper_dir, WHISPER_WEIGHTS)):
        if not any((folder / n).is_file() for n in names):
            missing.append(f"{folder.name}/{' or '.join(names)}")
    if missing:
        raise ReleaseError(f"MuseTalk release at {layout.root} is incomplete, missing: "
                           f"{', '.join(missing)} (fill it with python scripts/fetch_models.py "
                           f"--model-dir {layout.root})")


def _encoder_weights(state: dict[str, torch.Tensor], source: Path) -> dict[str, torch.Tensor]:
    for prefix in WHISPER_PREFIXES:
        encoder = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if encoder:
            return encoder
    raise ReleaseError(f"{source}: no whisper encoder weights (keys starting with "
                       f"{' or '.join(WHISPER_PREFIXES)})")


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise ReleaseError(f"{folder}: none of {', '.join(names)} found")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReleaseError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReleaseError(f"{path}: expected a JSON object")
    return data


def _listed(label: str, items: list[str]) -> str:
    if not items:
        return ""
    shown = ", ".join(items[:SHOWN_KEYS])
    more = f" and {len(items) - SHOWN_KEYS} more" if len(items) > SHOWN_KEYS else ""
    plural = ("es" if label.endswith("h") else "s") if len(items) > 1 else ""
    return f"{len(items)} {label}{plural} ({shown}{more})"
