"""MuseTalk 1.5 lip-sync on diffusers and transformers: the GPU profile's persona animator.

    from models.persona.musetalk import MuseTalkAnimator
    animator = MuseTalkAnimator(cache_dir=Path(".cache/personas"))   # $UGEN_MODELS_DIR/musetalk

Importing this package imports neither torch, diffusers nor transformers; they load when an
animator is built, and a missing one says `pip install 'ugen-engine[gpu]'`.

    config     release layout, recipe constants, InferenceOptions, ReleaseError
    loader     strict loading of the release into library classes
    audio      16 kHz resampling, whisper features, per-frame token windows, silence gating
    prepare    per-persona crops, masks and cached reference latents
    infer      LipSyncRunner: the batched UNet + VAE decode + blend stage
    animator   MuseTalkAnimator (the PersonaAnimator protocol)
    tiny       a tiny random release in the official layout, for tests and smoke benchmarks
"""

from models.persona.musetalk.animator import MuseTalkAnimator
from models.persona.musetalk.config import InferenceOptions, ReleaseError, ReleaseLayout
from models.persona.musetalk.loader import MuseTalkModels, load_release

__all__ = ["InferenceOptions", "MuseTalkAnimator", "MuseTalkModels", "ReleaseError",
           "ReleaseLayout", "load_release"]
