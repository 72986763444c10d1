"""Where the MuseTalk 1.5 release lives on disk, and the recipe's fixed numbers.

    layout = ReleaseLayout(default_model_dir())   # $UGEN_MODELS_DIR/musetalk
    layout.unet_weights                            # .../musetalkV15/unet.pth
    options = InferenceOptions.from_env(device="cuda")   # fp16 on CUDA, batch 16

The layout is the official one (`scripts/fetch_models.py` fills it): `musetalkV15/musetalk.json`
and `musetalkV15/unet.pth` (the UNet), `sd-vae/` (diffusers AutoencoderKL, sd-vae-ft-mse) and
`whisper/` (whisper-tiny config, weights and feature-extractor settings). The repo keeps the
release's configurations under `configs/models/musetalk/` for tests and benchmarks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from models.release_configs import RELEASE_CONFIGS

REPO_CONFIGS = RELEASE_CONFIGS / "musetalk"
UNET_CONFIG = REPO_CONFIGS / "musetalk.json"  # musetalkV15/musetalk.json of the release
VAE_CONFIG = REPO_CONFIGS / "sd-vae-ft-mse.json"
WHISPER_CONFIG = REPO_CONFIGS / "whisper-tiny.json"

FACE_SIZE = 256  # the model's face crop, pixels
LATENT_SIZE = FACE_SIZE // 8  # sd-vae downsamples by 8: 4 x 32 x 32 latents
LATENT_CHANNELS = 4
UNET_IN_CHANNELS = 2 * LATENT_CHANNELS  # masked-face latent + reference latent
AUDIO_DIM = 384  # whisper-tiny width = the UNet's cross-attention width
AUDIO_RATE = 16_000  # whisper's sample rate, Hz
AUDIO_STEPS_PER_S = 50  # whisper encoder output rate (20 ms per step)
# MuseTalk trains at 25 fps with 2 video frames of context each side: 2 * (2 + 2 + 1) = 10
# whisper steps per frame, starting 4 steps (80 ms) before the frame.
WINDOW_STEPS = 10
WINDOW_LEAD_STEPS = 4
PE_MAX_LEN = 5000  # length of the fixed sinusoidal table added to the audio tokens

GPU_EXTRA_HINT = "pip install 'ugen-engine[gpu]'"


class ReleaseError(RuntimeError):
    """The model directory is missing, incomplete or does not match the expected release.

    Not a ValueError on purpose: the render maps ValueError from an animator to a bad persona.
    """


def require_libraries() -> None:
    """Import the heavy libraries once, failing with the install command that fixes it."""
    try:
        import diffusers  # noqa: F401
        import safetensors  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"the musetalk backend needs {exc.name}: run {GPU_EXTRA_HINT}",
                          name=exc.name) from exc


def default_model_dir() -> Path:
    """`$UGEN_MODELS_DIR/musetalk`; a clear error when the variable is not set."""
    root = os.environ.get("UGEN_MODELS_DIR")
    if not root:
        raise ReleaseError("no MuseTalk model directory: set UGEN_MODELS_DIR (the release is "
                           "read from $UGEN_MODELS_DIR/musetalk) or pass model_dir; fill it "
                           "with scripts/fetch_models.py")
    return Path(root) / "musetalk"


@dataclass(frozen=True)
class ReleaseLayout:
    """The files of the official release under `root`."""

    root: Path

    @property
    def unet_config(self) -> Path:
        return self.root / "musetalkV15" / "musetalk.json"

    @property
    def unet_weights(self) -> Path:
        return self.root / "musetalkV15" / "unet.pth"

    @property
    def vae_dir(self) -> Path:
        return self.root / "sd-vae"

    @property
    def whisper_dir(self) -> Path:
        return self.root / "whisper"


@dataclass(frozen=True)
class InferenceOptions:
    """How the models run. `fp16` needs CUDA; `compile` (torch.compile) is meant for CUDA."""

    device: str = "cpu"
    fp16: bool = False
    compile: bool = False
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")

    @classmethod
    def from_env(cls, *, device: str | None = None, fp16: bool | None = None,
                 compile: bool | None = None, batch_size: int | None = None) -> InferenceOptions:
        """Arguments win; then UGEN_MUSETALK_{DEVICE,FP16,COMPILE,BATCH}; then defaults
        (CUDA when available, fp16 on CUDA, no compile, batch 16)."""
        import torch

        env = os.environ
        device = device or env.get("UGEN_MUSETALK_DEVICE") or (
            "cuda" if torch.cuda.is_available() else "cpu")
        on_cuda = device.startswith("cuda")
        return cls(device=device,
                   fp16=_flag(fp16, env.get("UGEN_MUSETALK_FP16"), default=on_cuda) and on_cuda,
                   compile=_flag(compile, env.get("UGEN_MUSETALK_COMPILE"), default=False),
                   batch_size=batch_size or int(env.get("UGEN_MUSETALK_BATCH", "16")))


def _flag(value: bool | None, text: str | None, *, default: bool) -> bool:
    if value is not None:
        return value
    if text is None or text == "":
        return default
    return text.strip().lower() in {"1", "true", "yes", "on"}
