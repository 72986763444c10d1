"""Motion: each shot's clip, animated from its keyframe by an image-to-video model.

    from models.motion import WanMotion
    motion = WanMotion(model_dir=Path("/models/wan2.2-ti2v-5b"), device="cuda")

    wan             WanMotion (the MotionBackend protocol) on WanImageToVideoPipeline
    random_layout   the release's layout with random weights (tiny for tests, full size for timing)

Importing this package imports neither torch nor diffusers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WanMotion"]


def __getattr__(name: str) -> Any:
    if name == "WanMotion":
        from models.motion.wan import WanMotion

        return WanMotion
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
