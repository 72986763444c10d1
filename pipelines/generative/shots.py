"""Which shots the generative tier renders, and how: the edit's shot plan, or one shot per segment.

    shots = edit_shots(script, track, fps=30, end_card_s=21.6)
    [s.kind for s in shots], shots[0].generated, shots[0].as_dict()   # script.json's "shots"

The plan is the one the CPU edit cuts (models/script/shots.py: the copywriter's planner, or
the LLM's plan once validated), placed on the voice's word timings by the same `timeline`, so
both tiers cut on the same frames: kinds closeup, medium, punch_in, split, cutaway and endcard.
A script without a plan gets one talking medium shot per segment, cut halfway between two
segments' words. A talking shot (the persona on screen speaking) gets its own keyframe, motion
and lip-sync; a cutaway shows the product cut-out full frame and the end card holds the anchor
keyframe under it, which costs no generation (docs/gpu.md, the cost plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.base import Script
from models.script.shots import timeline
from pipelines.voice import VoiceTrack

HELD_KINDS = ("cutaway", "endcard")


@dataclass(frozen=True)
class Shot:
    index: int
    kind: str
    start_s: float
    end_s: float
    line: str
    talking: bool
    segment: int = 0
    title: str | None = None  # on-screen text: the hook's line, a cutaway's selling point

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def generated(self) -> bool:
        """Gets its own keyframe and motion (a talking shot that is not held)."""
        return self.talking and self.kind not in HELD_KINDS

    def as_dict(self) -> dict[str, Any]:
        """The shot as script.json lists it."""
        return {"index": self.index, "segment": self.segment, "kind": self.kind,
                "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "line": self.line, "talking": self.talking, "title": self.title,
                "generated": self.generated}


def edit_shots(script: Script, track: VoiceTrack, *, fps: int, end_card_s: float) -> list[Shot]:
    """The script's shot plan on the voice's timeline, the end card last; without a plan, one
    talking shot per segment. Raises ValueError when the voice's words are not the script's."""
    if not script.shots:
        texts = [segment.text for segment in script.segments]
        return segment_shots(track.segment_spans, texts, duration_s=track.duration_s)
    timed = timeline(script.shots, script.segments, track.speech.words,
                     duration_s=track.duration_s, fps=fps, end_card_s=end_card_s)
    return [Shot(t.index, t.kind, t.start_s, t.end_s, t.line, t.talking, t.segment, t.title)
            for t in timed]


def segment_shots(spans: Sequence[tuple[float, float]], texts: Sequence[str], *,
                  duration_s: float) -> list[Shot]:
    """One talking medium shot per segment, each cut halfway between two segments' words."""
    cuts = [0.0] + [(spans[i - 1][1] + spans[i][0]) / 2 for i in range(1, len(spans))]
    cuts.append(duration_s)
    return [Shot(i, "medium", cuts[i], cuts[i + 1], texts[i] if i < len(texts) else "", True, i)
            for i in range(len(spans))]
