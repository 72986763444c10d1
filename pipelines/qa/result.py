"""What a QA check returns, and how a measured figure becomes a score in [0, 1].

    score = graded(0.8, limit=0.5, span=0.3)           # 1.0: a full span better than the limit
    score = graded(2.0, limit=1.2, span=0.5, lower_is_better=True)   # 0.22: 0.8 s over
    CheckResult.of("picture", {"frozen_s": (score, 2.0)}, figures={...})

A figure exactly at its limit scores PASS_AT (0.70, `standard`'s threshold); a full `span`
better scores 1.0 and each span worse loses 0.3 more. So `standard` passes a figure that meets
its limit, `lenient` (0.55) forgives half a span, `strict` (0.80) asks a third of a span of
margin. Yes/no criteria (the codec, the frame size) score 1.0 or 0.0: no mode forgives a file
a platform rejects. A check's score is its worst criterion's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS_AT = 0.70


def graded(value: float, *, limit: float, span: float, lower_is_better: bool = False) -> float:
    if value != value:  # NaN: nothing could be measured
        return 0.0
    margin = (limit - value if lower_is_better else value - limit) / span
    return round(min(1.0, max(0.0, PASS_AT + (1.0 - PASS_AT) * margin)), 3)


def yes_no(ok: bool) -> float:
    return 1.0 if ok else 0.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    score: float
    criteria: dict[str, float]  # criterion -> its score
    figures: dict[str, Any]  # what was measured, JSON-safe
    failing_shots: tuple[int, ...] = field(default=())  # shot indices judged below the limit

    @classmethod
    def of(cls, name: str, criteria: dict[str, float], figures: dict[str, Any],
           failing_shots: tuple[int, ...] = ()) -> CheckResult:
        score = min(criteria.values()) if criteria else 1.0
        return cls(name, score, criteria, figures, tuple(sorted(set(failing_shots))))

    def failing(self, threshold: float) -> list[str]:
        return [name for name, score in self.criteria.items() if score < threshold]

    def as_dict(self, threshold: float) -> dict[str, Any]:
        return {"score": self.score, "threshold": threshold, "passed": self.score >= threshold,
                "criteria": self.criteria, "failing": self.failing(threshold),
                "figures": self.figures, "failing_shots": list(self.failing_shots)}
