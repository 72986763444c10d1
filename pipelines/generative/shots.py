"""Which shots the generative tier renders, and how: the job's shot plan, or one shot per segment.

    shots = plan_shots(script_document, track)     # script.json's "shots", else segments
    [s.kind for s in shots], shots[0].generated

script.json's "shots" (written by the agents stage when a shot planner ran) is a list of
{"index", "segment", "kind", "start_s", "end_s", "line", "talking", "product_box"}; kinds are
closeup, medium, punch_in, cutaway, split and endcard. Without it every segment is one talking
medium shot, cut halfway between two segments' words. A talking shot (the persona on screen
speaking) gets its own keyframe, motion and lip-sync; cutaways and the end card hold the anchor
keyframe, which costs no generation (docs/gpu.md, the cost plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.voice import VoiceTrack

KINDS = ("closeup", "medium", "punch_in", "cutaway", "split", "endcard")
HELD_KINDS = ("cutaway", "endcard")


@dataclass(frozen=True)
class Shot:
    index: int
    kind: str
    start_s: float
    end_s: float
    line: str
    talking: bool

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def generated(self) -> bool:
        """Gets its own keyframe and motion (a talking shot that is not held)."""
        return self.talking and self.kind not in HELD_KINDS


def plan_shots(document: dict[str, Any], track: VoiceTrack) -> list[Shot]:
    planned = document.get("shots")
    if planned:
        return _from_plan(planned, track.duration_s)
    texts = [segment.get("text", "") for segment in document.get("segments", [])]
    return segment_shots(track.segment_spans, texts, duration_s=track.duration_s)


def segment_shots(spans: Sequence[tuple[float, float]], texts: Sequence[str], *,
                  duration_s: float) -> list[Shot]:
    """One talking medium shot per segment, each cut halfway between two segments' words."""
    cuts = [0.0] + [(spans[i - 1][1] + spans[i][0]) / 2 for i in range(1, len(spans))]
    cuts.append(duration_s)
    return [Shot(i, "medium", cuts[i], cuts[i + 1], texts[i] if i < len(texts) else "", True)
            for i in range(len(spans))]


def _from_plan(planned: Sequence[dict[str, Any]], duration_s: float) -> list[Shot]:
    """The planned shots in time order, each running until the next starts (the last to the end)."""
    ordered = sorted(planned, key=lambda s: float(s["start_s"]))
    shots = []
    for i, entry in enumerate(ordered):
        kind = str(entry.get("kind", "medium"))
        if kind not in KINDS:
            raise ValueError(f"shot {entry.get('index', i)}: unknown kind {kind!r} "
                             f"(known: {', '.join(KINDS)})")
        start = 0.0 if i == 0 else min(duration_s, float(entry["start_s"]))
        end = duration_s if i == len(ordered) - 1 else float(ordered[i + 1]["start_s"])
        shots.append(Shot(i, kind, start, min(duration_s, end), str(entry.get("line", "")),
                          bool(entry.get("talking", kind not in HELD_KINDS))))
    return [s for s in shots if s.duration_s > 0]
