"""What the generative tier did, for report.json: every keyframe, clip and lip-sync decision.

    record = GenerativeRecord(keyframe_backend="qwen-image-edit", motion_backend="wan")
    record.keyframes.append({...}); record.clips.append({...})
    report["generative"] = record.summary()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GenerativeRecord:
    keyframe_backend: str
    motion_backend: str
    shots: list[dict[str, Any]] = field(default_factory=list)
    keyframes: list[dict[str, Any]] = field(default_factory=list)
    clips: list[dict[str, Any]] = field(default_factory=list)
    lipsync: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        keyframe_s = sum(k["wall_s"] for k in self.keyframes)
        motion_s = sum(c["wall_s"] for c in self.clips)
        video_s = sum(c["frames"] / c["fps"] for c in self.clips)
        return {
            "shots": self.shots,
            "keyframe": {"backend": self.keyframe_backend, "count": len(self.keyframes),
                         "wall_s": round(keyframe_s, 3), "items": self.keyframes},
            "motion": {"backend": self.motion_backend, "clips": len(self.clips),
                       "generated_video_s": round(video_s, 3), "wall_s": round(motion_s, 3),
                       "wall_s_per_video_s": round(motion_s / video_s, 3) if video_s else None,
                       "items": self.clips},
            "lipsync": self.lipsync,
        }
