"""The video models a job's `video_model` can name: this engine's rendering tiers, read from
`configs/profiles/` (U-Gen's models list, with our tiers as its entries).

    tiers = video_models(Path("configs"))          # cpu, gpu, gpu-generative
    tiers[0].capabilities["supported_aspect_ratios"]  # ['9:16', '16:9', '1:1']
    check_video_model(tiers, "kling3_std")         # 422 model_not_found: not one of ours

Each tier is a profile: its stages' backends are what it renders with, its first comment line is
its description. Credits are the same on every tier (api/pricing.py): the price is the video's
length and resolution, whichever hardware draws it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from api import pricing
from api.errors import validation_error
from engine.spec import AspectRatio, JobSpec, Resolution

TIERS = ("cpu", "gpu", "gpu-generative")  # the profiles offered as models, in this order
DEFAULT = "cpu"  # what a job without `video_model` is priced and listed as
STAGES = ("script", "voice", "animator", "cutout", "music", "encoder", "keyframe", "motion")


@dataclass(frozen=True)
class VideoModel:
    id: str
    description: str
    backends: dict[str, str]
    needs_gpu: bool

    @property
    def capabilities(self) -> dict[str, Any]:
        duration = JobSpec.model_fields["segment_duration"].metadata
        low = next(m.ge for m in duration if hasattr(m, "ge"))
        high = next(m.le for m in duration if hasattr(m, "le"))
        return {"supported_aspect_ratios": list(typing.get_args(AspectRatio)),
                "supported_durations": list(range(low, high + 1)),
                "supported_resolutions": list(typing.get_args(Resolution)),
                "supports_sound": True, "supports_elements": False,
                "generated_keyframes": "keyframe" in self.backends, "generated_motion": "motion" in self.backends,
                "lip_sync": self.backends.get("animator", ""), "needs_gpu": self.needs_gpu}

    @property
    def credits(self) -> dict[str, Any]:
        return {"video_per_second": dict(pricing.VIDEO_PER_SECOND), "keyframe": pricing.KEYFRAME,
                "voice": pricing.VOICE, "custom_voice": pricing.CUSTOM_VOICE, "music": pricing.MUSIC,
                "custom_captions": pricing.CUSTOM_CAPTIONS, "post_processing": pricing.POST_PROCESSING}


def _backend(value: Any) -> str:
    return value["backend"] if isinstance(value, dict) else str(value)


def _description(text: str) -> str:
    """The profile's opening comment, up to its first full stop."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(lines).split(". ")[0].rstrip(".")


def read_tier(path: Path) -> VideoModel:
    text = path.read_text(encoding="utf-8")
    profile = yaml.safe_load(text) or {}
    backends = {stage: _backend(profile[stage]) for stage in STAGES if stage in profile}
    return VideoModel(id=path.stem, description=_description(text), backends=backends,
                      needs_gpu="device" in profile)


def video_models(configs_dir: Path) -> list[VideoModel]:
    return [read_tier(configs_dir / "profiles" / f"{tier}.yaml") for tier in TIERS]


def check_video_model(models: list[VideoModel], wanted: str | None) -> None:
    """422 `model_not_found` at `body.video_model` unless `wanted` is None or one of `models`."""
    ids = [m.id for m in models]
    if wanted is not None and wanted not in ids:
        raise validation_error(["body", "video_model"],
                               f"video model {wanted!r} does not exist; choose one of {', '.join(ids)}",
                               type_="model_not_found", value=wanted)
