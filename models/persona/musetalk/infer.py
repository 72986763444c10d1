"""The per-frame work of the recipe, batched on one device.

    runner = LipSyncRunner(models, InferenceOptions(device="cuda", fp16=True, batch_size=32))
    latents = runner.encode_faces(crops)           # (n, 8, 32, 32): masked + reference latents
    patches = runner.render(latents[idx], tokens, base=crops_at_size, mask=mask, weights=w)

`render` is the lip-sync stage the benchmark measures: audio tokens plus the positional
encoding, one UNet pass at timestep 0 on the 8-channel latent, VAE decode of the predicted
latent, then resize to the crop's size and a feathered blend over the original crop, all on
the device; only the finished uint8 crops come back to the host. With `compile` the UNet and
decoder run as one torch.compile graph and batches are padded to `batch_size`, so the graph
is compiled once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from models.persona.musetalk.audio import positional_encoding
from models.persona.musetalk.config import FACE_SIZE, WINDOW_STEPS, InferenceOptions
from models.persona.musetalk.loader import MuseTalkModels

if TYPE_CHECKING:
    import torch


class LipSyncRunner:
    """Models moved to the device and precision of `options`, in eval mode."""

    def __init__(self, models: MuseTalkModels, options: InferenceOptions) -> None:
        import torch

        self.options = options
        self.device = torch.device(options.device)
        self.dtype = torch.float16 if options.fp16 else torch.float32
        self.models = models
        fmt = torch.channels_last if options.cuda else torch.contiguous_format
        for model in (models.unet, models.vae):
            # .half() rather than .to(dtype=...), which makes diffusers log a spurious warning
            model.to(device=self.device, memory_format=fmt).eval()
            if options.fp16:
                model.half()
            else:
                model.float()
        models.whisper.to(device=self.device, dtype=torch.float32).eval()  # tiny: keep fp32
        self.scale = float(models.vae.config.scaling_factor)
        states = models.whisper.config.encoder_layers + 1  # the embedding and every layer
        width = models.unet.config.cross_attention_dim
        self.pe = positional_encoding(WINDOW_STEPS * states, width).to(self.device, self.dtype)
        self.timestep = torch.zeros((), device=self.device)
        self._generate = torch.compile(self.generate) if options.compile else self.generate

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def encode_faces(self, crops: np.ndarray) -> torch.Tensor:
        """(n, 8, 32, 32) latents on the device for (n, 256, 256, 3) uint8 RGB face crops.

        Channels 0-3 encode the crop with its lower half black (what the model fills in),
        4-7 the whole crop (the identity reference). `mode()` keeps them deterministic.
        """
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(crops), self.batch_size):
                faces = self._to_unit(crops[start:start + self.batch_size])
                masked = faces.clone()
                masked[:, :, FACE_SIZE // 2:] = 0.0
                out.append(torch.cat([self._encode(masked), self._encode(faces)], dim=1))
        return torch.cat(out) if out else torch.empty(0, device=self.device)

    def generate(self, latents: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """(b, 3, 256, 256) faces in 0..1 from (b, 8, 32, 32) latents and (b, 50, 384) tokens."""
        hidden = tokens.to(self.dtype) + self.pe
        predicted = self.models.unet(latents.to(self.dtype), self.timestep,
                                     encoder_hidden_states=hidden).sample
        image = self.models.vae.decode(predicted / self.scale).sample
        return (image / 2 + 0.5).clamp(0.0, 1.0)

    def render(self, latents: torch.Tensor, tokens: torch.Tensor, *, base: torch.Tensor,
               mask: torch.Tensor, weights: torch.Tensor) -> np.ndarray:
        """(b, h, w, 3) uint8 crops: generated faces blended over `base` (b, h, w, 3) uint8.

        `mask` (h, w) in 0..1 is the feathered mouth region, `weights` (b,) fade it per frame.
        """
        import torch

        count = len(latents)
        with torch.inference_mode():
            if self.options.compile and count < self.batch_size:
                latents, tokens = _pad(latents, self.batch_size), _pad(tokens, self.batch_size)
            faces = self._generate(latents, tokens)[:count]
            return _blend(faces, base, mask, weights).cpu().numpy()

    def _to_unit(self, crops: np.ndarray) -> torch.Tensor:
        import torch

        pixels = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
        return pixels.permute(0, 3, 1, 2).to(self.dtype) / 255.0

    def _encode(self, unit: torch.Tensor) -> torch.Tensor:
        posterior = self.models.vae.encode(unit * 2.0 - 1.0).latent_dist
        return posterior.mode() * self.scale


def _blend(faces: torch.Tensor, base: torch.Tensor, mask: torch.Tensor,
           weights: torch.Tensor) -> torch.Tensor:
    """Blend in 0..255 so that where the mask is 0 the base comes back bit-exact."""
    import torch
    import torch.nn.functional as F

    height, width = base.shape[1:3]
    faces = F.interpolate(faces.float(), size=(height, width), mode="bilinear",
                          align_corners=False, antialias=True) * 255.0
    original = base.permute(0, 3, 1, 2).float()
    alpha = mask[None, None].float() * weights[:, None, None, None].float()
    mixed = original + (faces - original) * alpha
    return mixed.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def _pad(batch: Any, size: int) -> Any:
    """Repeat the last item up to `size` rows; the extra rows are discarded afterwards."""
    import torch

    extra = batch[-1:].expand(size - len(batch), *batch.shape[1:])
    return torch.cat([batch, extra])
