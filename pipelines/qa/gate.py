"""The QA gate: every check on the delivered file, one score, the job's `qai_mode` decides.

    report = run_qa(QaInputs(video=work / "final.mp4", script=work / "script.json",
                             cutout_rgba=rgba, spec=spec, captions=track, configs=configs_dir))
    report.score, report.passed, report.failing_checks()
    write_qa_json(work / "qa.json", [report], enabled=True)
    raise qa_failed(report)     # QA_FAILED, details: the failing checks and their figures

A check's score is its worst criterion's (pipelines/qa/result.py); the render's score is its
worst check's, since one broken part breaks the ad. `qai_mode` picks the threshold (U-Gen's:
lenient 0.55, the default, standard 0.70, strict 0.80).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import QaFailed
from engine.spec import JobSpec
from pipelines.contract import FPS
from pipelines.qa.captions import caption_crops, check_captions
from pipelines.qa.conformance import check_conformance
from pipelines.qa.media import read_media
from pipelines.qa.persona import FaceTrack, check_persona
from pipelines.qa.picture import check_picture
from pipelines.qa.plan import ShotPlan
from pipelines.qa.product import check_product
from pipelines.qa.result import CheckResult

QAI_THRESHOLDS = {"lenient": 0.55, "standard": 0.70, "strict": 0.80}
DEFAULT_QAI_MODE = "lenient"  # U-Gen's default


@dataclass(frozen=True)
class QaInputs:
    video: Path  # the delivered final.mp4
    script: Path  # its script.json (the shot plan and the words)
    cutout_rgba: np.ndarray  # the product as cut out, (h, w, 4) uint8
    spec: JobSpec
    configs: Path  # the configs folder (fonts), when the captions are rebuilt
    captions: Any = None  # the job's CaptionTrack; rebuilt from script.json when None
    loudness: tuple[float, float] | None = None  # (LUFS, dBTP) of the file, measured when None


@dataclass(frozen=True)
class QaReport:
    checks: tuple[CheckResult, ...]
    mode: str
    threshold: float
    seed: int
    wall_s: float

    @property
    def score(self) -> float:
        return min(c.score for c in self.checks)

    @property
    def passed(self) -> bool:
        return self.score >= self.threshold

    def failing_checks(self) -> list[str]:
        return [c.name for c in self.checks if c.score < self.threshold]

    def as_dict(self) -> dict[str, Any]:
        return _finite({"score": self.score, "mode": self.mode, "threshold": self.threshold,
                        "passed": self.passed, "seed": self.seed, "wall_s": round(self.wall_s, 3),
                        "failing_checks": self.failing_checks(),
                        "checks": {c.name: c.as_dict(self.threshold) for c in self.checks}})


def threshold_for(spec: JobSpec) -> tuple[str, float]:
    mode = spec.qai_mode or DEFAULT_QAI_MODE
    return mode, QAI_THRESHOLDS[mode]


def run_qa(inputs: QaInputs) -> QaReport:
    from pipelines.encode.ffmpeg import measure_loudness

    started = time.perf_counter()
    spec = inputs.spec
    width, height = spec.frame_size
    plan = ShotPlan.read(inputs.script)
    captions = inputs.captions if inputs.captions is not None else _captions(inputs, plan)
    faces = FaceTrack(plan)  # the face mesh runs while the file decodes
    media = read_media(inputs.video, on_sample=faces.add,
                       crops=caption_crops(plan, captions) if spec.captions_enabled else None)
    duration_s = media.frame_count / FPS if media.frame_count else 0.0
    plan = plan.fitted(scale=media.scale, duration_s=duration_s)
    loudness = inputs.loudness or measure_loudness(inputs.video)
    checks = (
        check_conformance(media, width=width, height=height, loudness=loudness),
        check_picture(media, plan, duration_s=duration_s),
        check_persona(media, plan, faces.meshes),
        check_product(media, plan, inputs.cutout_rgba, holdable=spec.interaction_mode == "holdable"),
        check_captions(media, plan, captions, width=width, height=height,
                       enabled=spec.captions_enabled),
    )
    mode, threshold = threshold_for(spec)
    return QaReport(checks, mode, threshold, spec.seed, time.perf_counter() - started)


def _captions(inputs: QaInputs, plan: ShotPlan):
    from models.base import WordTiming
    from pipelines.captions.track import captions_for_words

    if not inputs.spec.captions_enabled or not plan.words:
        return None
    return captions_for_words(inputs.spec, [WordTiming(w.text, w.start_s, w.end_s)
                                            for w in plan.words], configs=inputs.configs)


def qa_document(tries: list[QaReport], *, enabled: bool, max_retries: int) -> dict[str, Any]:
    """qa.json: the last try in full, every earlier try, and what the gate decided."""
    last = tries[-1]
    return {**last.as_dict(), "enabled": enabled, "max_retries_video": max_retries,
            "retries_used": len(tries) - 1,
            "verdict": ("passed" if last.passed else "failed") if enabled else "not_gated",
            "tries": [t.as_dict() for t in tries]}


def qa_summary(document: dict[str, Any]) -> dict[str, Any]:
    """The part of qa.json that report.json carries."""
    return {k: document[k] for k in ("score", "mode", "threshold", "verdict", "enabled",
                                     "retries_used", "failing_checks", "wall_s")} | {
        "checks": {name: c["score"] for name, c in document["checks"].items()}}


def qa_failed(report: QaReport, *, retries_used: int) -> QaFailed:
    failing = {c.name: {"score": c.score, "failing": c.failing(report.threshold),
                        "figures": c.figures, "failing_shots": list(c.failing_shots)}
               for c in report.checks if c.score < report.threshold}
    return QaFailed(
        f"the video scored {report.score:.2f} in QA, under the {report.mode} threshold "
        f"{report.threshold:.2f}: {', '.join(failing)} failed after {retries_used} "
        f"{'retry' if retries_used == 1 else 'retries'}",
        details=_finite({"score": report.score, "mode": report.mode,
                         "threshold": report.threshold, "retries_used": retries_used,
                         "failing_checks": failing}))


def _finite(value: Any) -> Any:
    """JSON has no infinities or NaN: they are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value
