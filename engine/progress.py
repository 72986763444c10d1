"""Stage progress as one percent that never decreases, and per-stage timings.

    tracker = StageTracker(on_progress=lambda stage, percent: print(stage, percent))
    with tracker.stage("generation") as report:
        for i in range(n):
            report((i + 1) / n)       # fraction of this stage, 0..1
    tracker.timings["generation"].wall_s

Each stage owns a slice of 0..100 sized to its usual share of the render; a stage's
`report(fraction)` moves the percent inside its slice. The percent handed to `on_progress`
never goes down, whatever a stage reports.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from engine.measure import own_peak_mb
from engine.spec import STAGES

ProgressCallback = Callable[[str, float], None]

# Share of the percent per stage, in order; generation (frames + encode) dominates.
STAGE_WEIGHTS = {"prepare": 3, "agents": 2, "init": 10, "generation": 75,
                 "concat": 4, "audio": 2, "captions": 1, "complete": 3}


@dataclass(frozen=True)
class StageTiming:
    stage: str
    wall_s: float
    cpu_s: float  # this process and its finished children (ffmpeg)
    peak_rss_mb: float  # this process's peak so far


def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class StageTracker:
    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self._on_progress = on_progress
        self._percent = 0.0
        self.timings: dict[str, StageTiming] = {}
        self._starts = _slice_starts()

    @property
    def percent(self) -> float:
        return self._percent

    def _emit(self, stage: str, percent: float) -> None:
        percent = round(max(self._percent, min(100.0, percent)), 1)
        self._percent = percent
        if self._on_progress is not None:
            self._on_progress(stage, percent)

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float], None]]:
        start, weight = self._starts[name], STAGE_WEIGHTS[name]

        def report(fraction: float) -> None:
            self._emit(name, start + weight * max(0.0, min(1.0, fraction)))

        wall0, cpu0 = time.perf_counter(), _cpu_s()
        report(0.0)
        yield report
        self.timings[name] = StageTiming(name, time.perf_counter() - wall0, _cpu_s() - cpu0,
                                         own_peak_mb())
        report(1.0)


def _slice_starts() -> dict[str, float]:
    starts, total = {}, 0.0
    for name in STAGES:
        starts[name] = total
        total += STAGE_WEIGHTS[name]
    assert abs(total - 100.0) < 1e-9, "stage weights must add up to 100"
    return starts
