"""Keyframes: the persona, with the product, in the job's scene, as still images.

    from models.keyframe import QwenEditKeyframes
    keyframes = QwenEditKeyframes(model_dir=Path("/models/qwen-image-edit"), device="cuda")

    qwen_edit       QwenEditKeyframes (the KeyframeBackend protocol) on QwenImageEditPlusPipeline
    processor       ImageTextProcessor: the image half of Qwen2-VL's processor, without torchvision
    random_layout   the release's layout with random weights (tiny for tests, full size for timing)

Importing this package imports neither torch nor diffusers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["QwenEditKeyframes"]


def __getattr__(name: str) -> Any:
    if name == "QwenEditKeyframes":
        from models.keyframe.qwen_edit import QwenEditKeyframes

        return QwenEditKeyframes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
