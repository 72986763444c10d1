"""What a job costs in credits, component by component (U-Gen's cost model, our rates).

    estimate(spec).total                       # reserved at creation
    estimate(spec, video_s=5.2).total          # charged at completion: the seconds rendered

U-Gen's components are read from its credit guide: keyframes (N segments need N + 1, 8 credits
each at 1K), voice-over 15 (20 with a custom voice), music 15, a custom caption style 20, and a
flat 10 for post-processing. Its per-second video rates were not published; ours scale with the
resolution, since that is what costs render time here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.spec import JobSpec

VIDEO_PER_SECOND = {"draft": 1, "hd": 2, "standard": 3}
KEYFRAME = 8
VOICE, CUSTOM_VOICE = 15, 20
MUSIC = 15
CUSTOM_CAPTIONS = 20
POST_PROCESSING = 10


@dataclass(frozen=True)
class Estimate:
    breakdown: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.breakdown.values())


def estimate(spec: JobSpec, *, video_s: float | None = None) -> Estimate:
    """Credits for `spec`; `video_s` (the rendered length) replaces the requested length,
    never raising the charge above the estimate."""
    seconds = spec.target_duration_s if video_s is None else min(math.ceil(video_s), spec.target_duration_s)
    breakdown = {
        "video": int(seconds) * VIDEO_PER_SECOND[spec.video_resolution],
        "keyframes": (spec.segment_count + 1) * KEYFRAME,
        "voice": CUSTOM_VOICE if spec.voice_settings.voice_id else VOICE,
        "music": MUSIC if spec.music_enabled else 0,
        "captions": CUSTOM_CAPTIONS if spec.captions_enabled and spec.custom_caption_options else 0,
        "post_processing": POST_PROCESSING,
    }
    return Estimate(breakdown)
