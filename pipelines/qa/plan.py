"""The edit's shot plan as the delivered script.json records it, read for the QA checks.

    plan = ShotPlan.read(out / "script.json")            # frame pixels, the last shot open
    plan = plan.fitted(scale=1 / 3, duration_s=24.0)       # once the file's size is known
    shot = plan.at(4.2)                    # the shot on screen at 4.2 s
    plan.product_box(shot, 4.2)            # its product box at that time, analysis pixels

Every box in script.json is in frame pixels; `scale` maps them to the analysis frames (the
delivered frames scaled down, pipelines/qa/media.py). A product box moves over a shot (a
cutaway pushes in): the box at a time is interpolated from the shot's start box to its end box.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from models.script.shots import TALKING  # the shot kinds in which the persona speaks on screen
from pipelines.qa.media import Box



@dataclass(frozen=True)
class Shot:
    index: int
    kind: str
    start_s: float
    end_s: float  # the next shot's start (a shot stays on screen until the next cut)
    product_box: Box | None
    product_box_end: Box | None
    product_rest_box: Box | None
    mouth_box: Box | None
    caption_shift: tuple[int, int]

    @property
    def talking(self) -> bool:
        return self.kind in TALKING


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ShotPlan:
    shots: tuple[Shot, ...]
    words: tuple[Word, ...]
    scale: float  # analysis pixels per frame pixel

    @classmethod
    def read(cls, script_json: Path, *, scale: float = 1.0,
             duration_s: float = math.inf) -> ShotPlan:
        doc = json.loads(script_json.read_text(encoding="utf-8"))
        raw = doc.get("shots") or []
        ends = [s["start_s"] for s in raw[1:]] + [duration_s]
        shots = tuple(_shot(s, end) for s, end in zip(raw, ends, strict=False))
        words = tuple(Word(w["text"], w["start_s"], w["end_s"]) for w in doc.get("words", []))
        return cls(shots, words, scale)

    def fitted(self, *, scale: float, duration_s: float) -> ShotPlan:
        """The plan for analysis frames at `scale`, its last shot ending at `duration_s`."""
        shots = self.shots[:-1] + tuple(replace(s, end_s=duration_s) for s in self.shots[-1:])
        return replace(self, shots=shots, scale=scale)

    @cached_property
    def _starts(self) -> list[float]:
        return [s.start_s for s in self.shots]

    def at(self, t_s: float) -> Shot | None:
        index = bisect.bisect_right(self._starts, t_s + 1e-9) - 1
        return self.shots[index] if index >= 0 else None

    def scaled(self, box: Box | None) -> Box | None:
        if box is None:
            return None
        x, y, w, h = box
        k = self.scale
        return (round(x * k), round(y * k), max(1, round(w * k)), max(1, round(h * k)))

    def product_box(self, shot: Shot, t_s: float) -> Box | None:
        """The product's box at `t_s`, analysis pixels: start -> end box, linearly."""
        if shot.product_box is None:
            return None
        end = shot.product_box_end or shot.product_box
        f = min(1.0, max(0.0, (t_s - shot.start_s) / max(1e-6, shot.end_s - shot.start_s)))
        box = tuple(a + (b - a) * f for a, b in zip(shot.product_box, end, strict=True))
        return self.scaled(tuple(round(v) for v in box))


def _box(value: Any) -> Box | None:
    return None if value is None else tuple(int(v) for v in value)


def _shot(raw: dict[str, Any], end_s: float) -> Shot:
    return Shot(raw["index"], raw["kind"], raw["start_s"], end_s, _box(raw.get("product_box")),
                _box(raw.get("product_box_end")), _box(raw.get("product_rest_box")),
                _box(raw.get("mouth_box")), tuple(raw.get("caption_shift") or (0, 0)))
